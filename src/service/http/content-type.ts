import type { FastifyRequest } from 'fastify';

const MEDIA_TYPE = /^\s*[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(;.*)?$/;

/**
 * onRequest: FastAPI reads a body as JSON whatever its Content-Type says, an empty or malformed one
 * included; Fastify would answer 415 before any parser runs. Such a header is dropped, so the body
 * reaches the JSON parser like one that was sent without a Content-Type.
 */
export async function dropMalformedContentType(request: FastifyRequest): Promise<void> {
  const value = request.headers['content-type'];
  if (value !== undefined && !MEDIA_TYPE.test(value)) delete request.headers['content-type'];
}
