import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { toPydanticErrors, type Location } from './pydantic-errors.ts';

/** Parses or answers 422 in FastAPI's shape; returns undefined when it has already replied. */
export function parseOr422<S extends z.ZodType>(schema: S, data: unknown, where: Location, reply: FastifyReply): z.output<S> | undefined {
  if (where === 'body' && data === undefined) {
    void reply.code(422).send({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
    return undefined;
  }
  const r = schema.safeParse(data, { reportInput: true });
  if (r.success) return r.data;
  void reply.code(422).send({ detail: toPydanticErrors(r.error.issues, where, data) });
  return undefined;
}

/** Echoing a 100 MB base64 string back in a 422 helps nobody. */
export function truncatedInput(value: unknown): unknown {
  return typeof value === 'string' && value.length > 80 ? `${value.slice(0, 80)}…` : value;
}
