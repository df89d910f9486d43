// The fluxtune SDK: HTTP only, no server code.
export { FluxtuneClient, type FluxtuneClientOptions, type WaitOptions } from './client.ts';
export * from './errors.ts';
export type * from './types.ts';
export { zipFolder } from './zip-folder.ts';
