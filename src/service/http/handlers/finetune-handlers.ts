import { randomUUID } from 'node:crypto';
import type { FinetuneRequest } from '../../../api/finetune-schemas.ts';
import { deleteFinetuneRoute, finetuneDetailsRoute, finetuneRoute, myFinetunesRoute } from '../../../api/routes.ts';
import { datasetImageKey, finetunePrefix } from '../../blob-keys.ts';
import { listFinetuneGenerations } from '../../tasks/finetune-generations.ts';
import { type DatasetImageRef, deleteFinetuneRows, insertFinetune, listFinetuneIds } from '../../tasks/finetune-store.ts';
import type { TaskStatus } from '../../tasks/task-store.ts';
import { renderTraining } from '../../tasks/training-view.ts';
import { type BoundRoute, implement } from '../bind-routes.ts';
import { assertBelowTaskLimit, assertPublicWebhook, ownFinetune } from '../guards.ts';
import { fieldError } from '../http-errors.ts';
import { baseUrlOf, type ServiceContext } from '../service-context.ts';
import { submitTask } from '../submit-task.ts';
import { takeIngestedUpload } from '../upload-parser.ts';

export function finetuneHandlers(ctx: ServiceContext): BoundRoute[] {
  return [
    implement(finetuneRoute, async ({ body, request }) => {
      assertPublicWebhook(ctx, body.webhook_url);
      await assertBelowTaskLimit(ctx, request.keyId);

      // The whole ZIP was validated and decoded (by an upload thread, while the body arrived) before
      // anything is written: a rejected upload leaves no trace.
      const upload = takeIngestedUpload(request);
      if (!upload) throw new Error('POST /v1/finetune reached its handler without an ingested upload (is uploadBodyParser its parser?)');
      if ('rejection' in upload) throw fieldError('body', 'file_data', upload.rejection, body.file_data);
      const dataset = upload;

      const id = randomUUID();
      const refs: DatasetImageRef[] = dataset.images.map((img, i) => ({
        file: img.file,
        blob: datasetImageKey(id, i),
        width: img.width,
        height: img.height,
        user_caption: img.userCaption,
      }));
      const { pollingUrl } = await submitTask(ctx, request, {
        id,
        kind: 'finetune',
        input: finetuneInputRecord(body),
        webhookUrl: body.webhook_url,
        webhookSecret: body.webhook_secret,
        blobPrefix: finetunePrefix(id),
        async writeBlobs() {
          for (const [i, img] of dataset.images.entries()) await ctx.blobs.put(refs[i]!.blob, img.png);
        },
        alsoInsert: (tx) =>
          insertFinetune(tx, {
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
          }),
      });
      return body.webhook_url
        ? { finetune_id: id, id, status: 'Pending' as const, webhook_url: body.webhook_url, polling_url: pollingUrl }
        : { finetune_id: id, id, polling_url: pollingUrl };
    }),

    implement(myFinetunesRoute, async ({ request }) => ({ finetunes: await listFinetuneIds(ctx.db, request.keyId, ctx.config.region) })),

    implement(finetuneDetailsRoute, async ({ query, request }) => {
      const ft = await ownFinetune(ctx, query.finetune_id, request.keyId);
      const baseUrl = baseUrlOf(ctx, request);
      const generations = await listFinetuneGenerations(ctx.db, { finetuneId: ft.id, keyId: request.keyId, region: ctx.config.region }, ctx.signer, baseUrl);
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
          status: ft.status as TaskStatus,
          progress: ft.progress,
          image_count: ft.image_count,
          // Finetunes captioned before captions carried a confidence show null.
          captions: ft.captions?.map((c) => ({ ...c, confidence: c.confidence ?? null })) ?? null,
          training_seconds: ft.training_seconds,
          region: ft.region,
          training: renderTraining(ft, ctx.signer, baseUrl),
          generations,
        },
      };
    }),

    implement(deleteFinetuneRoute, async ({ body, request }) => {
      const ft = await ownFinetune(ctx, body.finetune_id, request.keyId);
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
    }),
  ];
}

/** The request as recorded on the task (file_data is stored as images, never in the row). */
function finetuneInputRecord(body: FinetuneRequest): Record<string, unknown> {
  const { file_data: _zip, webhook_secret: _secret, ...rest } = body;
  return rest;
}
