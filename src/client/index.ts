// The fluxtune SDK: HTTP only, no server code.
export {
  type FinetuneImportResponse,
  FluxtuneClient,
  type FluxtuneClientOptions,
  type ImportParams,
  type LoraDtype,
  type LoraFormat,
  type WaitOptions,
  type WeightsOptions,
} from './client.ts';
export * from './errors.ts';
export type * from './types.ts';
export { zipFolder } from './zip-folder.ts';
