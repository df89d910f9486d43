import type { z } from 'zod';
import { HttpError } from './http-errors.ts';
import { deeperThan, MAX_JSON_DEPTH } from './json-depth.ts';
import { type Location, toPydanticErrors } from './pydantic-errors.ts';

const LOCATIONS: Record<string, Location | 'path'> = { body: 'body', querystring: 'query', params: 'path' };

/**
 * Fastify's validator compiler for zod schemas: the parsed (defaulted, transformed) value replaces the
 * input, and a failure becomes FastAPI's 422 body, which the error handler sends as is.
 */
export function zodValidatorCompiler({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  const zod = schema as z.ZodType;
  const where = LOCATIONS[httpPart ?? 'body'] ?? 'body';
  return (data: unknown) => {
    // Fastify hands an absent body over as null; FastAPI calls both a missing body.
    if (where === 'body' && (data === undefined || data === null)) {
      return { error: new HttpError(422, { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] }) };
    }
    if (where === 'body' && deeperThan(data, MAX_JSON_DEPTH)) {
      return {
        error: new HttpError(422, {
          detail: [
            { type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: `nesting deeper than ${MAX_JSON_DEPTH} levels` } },
          ],
        }),
      };
    }
    const r = zod.safeParse(data, { reportInput: true });
    if (r.success) return { value: r.data };
    // A path that names no resource is not found, whatever part of it is wrong.
    if (where === 'path') return { error: new HttpError(404, { detail: 'Not Found' }) };
    return { error: new HttpError(422, { detail: toPydanticErrors(r.error.issues, where as Location, data) }) };
  };
}
