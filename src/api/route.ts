import type { z } from 'zod';

// One declaration per endpoint: the service validates with it, the OpenAPI document is generated
// from it, and the SDK's types are inferred from it. Nothing here knows about HTTP servers.

export type Method = 'GET' | 'POST';

/** x-key: an API key in the x-key header; signed-url: the exp/sig query is the credential; none: public. */
export type Auth = 'x-key' | 'signed-url' | 'none';

export interface ResponseDoc {
  description: string;
  /** JSON body; absent for binary or empty answers. */
  schema?: z.ZodType;
  /** Non-JSON bodies, e.g. image/jpeg. */
  contentTypes?: readonly string[];
}

export interface RouteExamples {
  body?: Record<string, unknown>;
  query?: Record<string, string>;
  /** With BFL's seed client (test/e2e/seed-client/bfl_finetune.py) where it covers the route. */
  python: string;
  /** With fluxtune's SDK (src/client). */
  typescript: string;
}

export interface RouteDef {
  /** The handler's name in BFL's FastAPI app (or ours): the operationId is derived from it as FastAPI does. */
  name: string;
  method: Method;
  /** Fastify's syntax for path parameters: /v1/files/:kind/:id */
  path: string;
  auth: Auth;
  tag: string;
  summary: string;
  description?: string;
  /** Ours, not in BFL's API (OpenAPI: x-fluxtune-extension). */
  extension?: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: z.ZodObject;
  /** 200 first; errors as the guards and the validator answer them. */
  responses: { readonly 200: ResponseDoc } & Readonly<Record<number, ResponseDoc>>;
  examples?: RouteExamples;
}

export function defineRoute<const R extends RouteDef>(route: R): R {
  return route;
}

/** FastAPI's generate_unique_id: name + path with every non-word character as "_", then the method. */
export function operationId(route: RouteDef): string {
  const unique = `${route.name}${route.path.replace(/:(\w+)/g, '{$1}')}`.replace(/\W/g, '_');
  return `${unique}_${route.method.toLowerCase()}`;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type In<S> = S extends z.ZodType ? z.input<S> : undefined;

/** The validated body / query / params a handler receives. */
export type BodyOf<R extends RouteDef> = Out<R['body']>;
export type QueryOf<R extends RouteDef> = Out<R['query']>;
export type ParamsOf<R extends RouteDef> = Out<R['params']>;
/** What a client may send. */
export type RequestOf<R extends RouteDef> = In<R['body']>;
/** The 200 body a handler returns and a client receives. */
export type OkOf<R extends RouteDef> = In<R['responses'][200]['schema']>;
