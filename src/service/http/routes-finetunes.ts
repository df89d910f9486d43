import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DatasetRejection } from '../../dataset/dataset-rejection.ts';
import { ingestZip } from '../../dataset/ingest-zip.ts';
import { datasetImageKey, datasetZipKey, finetunePrefix } from '../blob-keys.ts';
import { deleteFinetuneRows, findFinetune, insertFinetune, listFinetuneIds, type DatasetImageRef } from '../tasks/finetune-store.ts';
import { insertTaskWithJob, TooManyActiveTasks } from '../tasks/task-store.ts';
import { obviouslyPrivate } from '../webhooks/ssrf-guard.ts';
import { deleteFinetuneSchema, finetuneIdQuerySchema, finetuneRequestSchema, type FinetuneRequest } from './finetune-schema.ts';
import { singleError } from './pydantic-errors.ts';
import { baseUrlOf, type ServiceContext } from './service-context.ts';
import { parseOr422, truncatedInput } from './validate.ts';

export const FINETUNE_NOT_FOUND = { detail: 'Finetune not found or access denied' };

export function registerFinetuneRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post('/v1/finetune', async (request, reply) => {
    const body = parseOr422(finetuneRequestSchema, request.body, 'body', reply);
    if (!body) return reply;
    if (rejectPrivateWebhook(ctx, body.webhook_url, reply)) return reply;
    if (await atActiveLimit(ctx, request.keyId)) return reply.code(429).send({ detail: new TooManyActiveTasks(ctx.config.maxActiveTasksPerKey).message });

    // The whole ZIP is validated and decoded before anything is written: a rejected upload leaves no trace.
    let dataset;
    try {
      dataset = await ingestZip(body.file_data, ctx.datasetLimits);
    } catch (err) {
      if (!(err instanceof DatasetRejection)) throw err;
      return reply.code(422).send(singleError('body', 'file_data', 'value_error', `Value error, ${err.message}`, truncatedInput(body.file_data)));
    }

    const id = randomUUID();
    const refs: DatasetImageRef[] = [];
    try {
      await ctx.blobs.put(datasetZipKey(id), dataset.zip);
      for (const [i, img] of dataset.images.entries()) {
        await ctx.blobs.put(datasetImageKey(id, i), img.png);
        refs.push({ file: img.file, blob: datasetImageKey(id, i), width: img.width, height: img.height, user_caption: img.userCaption });
      }
      // Committed before the 200: once the client has an id, a crash cannot lose the job.
      await ctx.db.transaction(async (tx) => {
        await insertTaskWithJob(
          tx,
          { id, keyId: request.keyId, kind: 'finetune', region: ctx.config.region, input: finetuneInputRecord(body), webhookUrl: body.webhook_url, webhookSecret: body.webhook_secret },
          { maxActive: ctx.config.maxActiveTasksPerKey, maxAttempts: ctx.config.jobMaxAttempts },
        );
        await insertFinetune(tx, {
          id,
          key_id: request.keyId,
          region: ctx.config.region,
          finetune_comment: body.finetune_comment,
          trigger_word: body.trigger_word,
          mode: body.mode,
          finetune_type: body.finetune_type,
          lora_rank: body.lora_rank,
          iterations: body.iterations,
          learning_rate: body.learning_rate,
          priority: body.priority,
          captioning: body.captioning,
          image_count: refs.length,
          dataset: refs,
        });
      });
    } catch (err) {
      await ctx.blobs.deletePrefix(finetunePrefix(id)).catch(() => {});
      if (err instanceof TooManyActiveTasks) return reply.code(429).send({ detail: err.message });
      throw err;
    }
    ctx.jobs?.notify();
    const pollingUrl = `${baseUrlOf(ctx, request)}/v1/get_result?id=${id}`;
    return body.webhook_url
      ? { finetune_id: id, id, status: 'Pending', webhook_url: body.webhook_url, polling_url: pollingUrl }
      : { finetune_id: id, id, polling_url: pollingUrl };
  });

  app.get('/v1/my_finetunes', async (request) => ({ finetunes: await listFinetuneIds(ctx.db, request.keyId, ctx.config.region) }));

  app.get('/v1/finetune_details', async (request, reply) => {
    const q = parseOr422(finetuneIdQuerySchema, request.query, 'query', reply);
    if (!q) return reply;
    const ft = await findFinetune(ctx.db, q.finetune_id, request.keyId, ctx.config.region);
    if (!ft) return reply.code(404).send(FINETUNE_NOT_FOUND);
    return {
      finetune_details: {
        finetune_comment: ft.finetune_comment,
        trigger_word: ft.trigger_word,
        mode: ft.mode,
        finetune_type: ft.finetune_type,
        lora_rank: ft.lora_rank,
        iterations: ft.iterations,
        learning_rate: ft.learning_rate,
        priority: ft.priority,
        captioning: ft.captioning,
        timestamp: ft.created_at.toISOString(),
        status: ft.status,
        progress: ft.progress,
        image_count: ft.image_count,
        captions: ft.captions,
        training_seconds: ft.training_seconds,
        region: ft.region,
      },
    };
  });

  app.post('/v1/delete_finetune', async (request, reply) => {
    const body = parseOr422(deleteFinetuneSchema, request.body, 'body', reply);
    if (!body) return reply;
    const ft = await findFinetune(ctx.db, body.finetune_id, request.keyId, ctx.config.region);
    if (!ft) return reply.code(404).send(FINETUNE_NOT_FOUND);
    // Rows first: a worker elsewhere loses its lease at the next heartbeat and cannot mark the task Ready.
    await deleteFinetuneRows(ctx.db, ft.id);
    ctx.taskCache.evict(ft.id);
    ctx.jobs?.cancel(ft.id);
    await ctx.blobs.deletePrefix(finetunePrefix(ft.id));
    return {
      status: 'Deleted',
      message: `Finetune ${ft.id} and its files were deleted${ft.status === 'Pending' ? '; its training was cancelled' : ''}.`,
      deleted_finetune_id: ft.id,
      timestamp: new Date().toISOString(),
    };
  });
}

/** The request as recorded on the task (file_data is stored as a blob, never in the row). */
function finetuneInputRecord(body: FinetuneRequest): Record<string, unknown> {
  const { file_data: _zip, webhook_secret: _secret, ...rest } = body;
  return rest;
}

export async function atActiveLimit(ctx: ServiceContext, keyId: string): Promise<boolean> {
  const r = await ctx.db.query<{ n: number }>(`select count(*)::int as n from tasks where key_id = $1 and status = 'Pending'`, [keyId]);
  return r.rows[0]!.n >= ctx.config.maxActiveTasksPerKey;
}

/** true when it has answered 422 for a webhook_url that points into a private network. */
export function rejectPrivateWebhook(ctx: ServiceContext, url: string | undefined, reply: FastifyReply): boolean {
  if (!url || ctx.config.webhookAllowPrivate || !obviouslyPrivate(url)) return false;
  void reply.code(422).send(singleError('body', 'webhook_url', 'value_error', 'Value error, webhook_url must not point to a private, loopback or link-local address', url));
  return true;
}
