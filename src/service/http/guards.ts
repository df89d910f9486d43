import type { FastifyRequest } from 'fastify';
import { type FinetuneWithStatus, findFinetune } from '../tasks/finetune-store.ts';
import { countActiveTasks, TooManyActiveTasks } from '../tasks/task-store.ts';
import { obviouslyPrivate } from '../webhooks/ssrf-guard.ts';
import { detailError, FINETUNE_NOT_FOUND, fieldError, NOT_AUTHENTICATED } from './http-errors.ts';
import type { ServiceContext } from './service-context.ts';

// Checks a handler runs before it writes anything. Each throws the HttpError BFL would answer.

/** onRequest: a wrong key is refused before a 100 MB body is read and parsed. x-key in any case (Node lower-cases names). */
export function requireKey(ctx: ServiceContext) {
  return async (request: FastifyRequest) => {
    const raw = request.headers['x-key'];
    const keyId = await ctx.keys.verify(Array.isArray(raw) ? raw[0] : raw);
    if (!keyId) throw detailError(403, NOT_AUTHENTICATED);
    request.keyId = keyId;
  };
}

export async function assertBelowTaskLimit(ctx: ServiceContext, keyId: string): Promise<void> {
  if ((await countActiveTasks(ctx.db, keyId)) >= ctx.config.maxActiveTasksPerKey) {
    throw tooManyTasks(new TooManyActiveTasks(ctx.config.maxActiveTasksPerKey));
  }
}

export const tooManyTasks = (err: TooManyActiveTasks) => detailError(429, err.message);

/** A webhook into a private network is refused at submit (and again at delivery, by the dispatcher). */
export function assertPublicWebhook(ctx: ServiceContext, url: string | undefined): void {
  if (!url || ctx.config.webhookAllowPrivate || !obviouslyPrivate(url)) return;
  throw fieldError('body', 'webhook_url', 'webhook_url must not point to a private, loopback or link-local address', url);
}

/** The caller's finetune in this region; another key's or region's reads as not found. */
export async function ownFinetune(ctx: ServiceContext, id: string, keyId: string): Promise<FinetuneWithStatus> {
  const ft = await findFinetune(ctx.db, id, keyId, ctx.config.region);
  if (!ft) throw detailError(404, FINETUNE_NOT_FOUND);
  return ft;
}

/** As ownFinetune, and trained: BFL conflated "not ready" with "not found"; we answer 400 for it. */
export async function readyFinetune(ctx: ServiceContext, id: string, keyId: string): Promise<FinetuneWithStatus> {
  const ft = await ownFinetune(ctx, id, keyId);
  if (ft.status !== 'Ready') throw detailError(400, 'Finetune not ready');
  return ft;
}
