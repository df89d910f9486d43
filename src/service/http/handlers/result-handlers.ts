import { getResultRoute } from '../../../api/routes.ts';
import { renderTask } from '../../tasks/render-task.ts';
import { type BoundRoute, implement } from '../bind-routes.ts';
import { HttpError } from '../http-errors.ts';
import { baseUrlOf, type ServiceContext } from '../service-context.ts';

/** GET /v1/get_result — the hot path clients poll: at most one indexed lookup per id per cache TTL, no blob access. */
export function resultHandlers(ctx: ServiceContext): BoundRoute[] {
  return [
    implement(getResultRoute, async ({ query, request }) => {
      const task = await ctx.taskCache.find(query.id, request.keyId, ctx.config.region);
      if (!task) throw new HttpError(404, { id: query.id, status: 'Task not found' });
      return renderTask(task, ctx.signer, baseUrlOf(ctx, request));
    }),
  ];
}
