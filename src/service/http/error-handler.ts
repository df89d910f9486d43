import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.ts';

type ServerError = FastifyError & { jsonInvalid?: boolean };

/** The one place an error becomes an answer: typed HTTP errors as they are, parser errors as FastAPI words them, the rest 500. */
export function errorHandler(err: ServerError, _request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof HttpError) return reply.code(err.statusCode).send(err.body);
  if (err.jsonInvalid) {
    return reply.code(422).send({ detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: err.message } }] });
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ detail: 'Request body too large' });
  if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ detail: err.message });
  process.stderr.write(`fluxtune: ${err.stack ?? err.message}\n`);
  return reply.code(500).send({ detail: 'Internal Server Error' });
}
