import type { FastifyInstance } from 'fastify';
import { renderTask } from '../tasks/render-task.ts';
import { getResultQuerySchema } from './finetune-schema.ts';
import { baseUrlOf, type ServiceContext } from './service-context.ts';
import { parseOr422 } from './validate.ts';

/** GET /v1/get_result — the hot path clients poll: at most one indexed lookup per id per cache TTL, no blob access. */
export function registerResultRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get('/v1/get_result', async (request, reply) => {
    const q = parseOr422(getResultQuerySchema, request.query, 'query', reply);
    if (!q) return reply;
    const task = await ctx.taskCache.find(q.id, request.keyId, ctx.config.region);
    if (!task) return reply.code(404).send({ id: q.id, status: 'Task not found' });
    return renderTask(task, ctx.signer, baseUrlOf(ctx, request));
  });
}
