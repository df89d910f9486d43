import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceContext } from './service-context.ts';

export const NOT_AUTHENTICATED = { detail: 'Not authenticated - Invalid Authentication' };

/** x-key (any case; Node lower-cases header names) → request.keyId, or 403 as BFL answers. */
export function authHook(ctx: ServiceContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = request.headers['x-key'];
    const keyId = await ctx.keys.verify(Array.isArray(raw) ? raw[0] : raw);
    if (!keyId) return reply.code(403).send(NOT_AUTHENTICATED);
    request.keyId = keyId;
  };
}
