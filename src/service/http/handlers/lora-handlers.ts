import { randomUUID } from 'node:crypto';
import type { FinetuneImportRequest } from '../../../api/finetune-schemas.ts';
import { finetuneImportRoute, finetuneWeightsRoute } from '../../../api/routes.ts';
import { decodeBase64InPlace } from '../../../dataset/base64-zip.ts';
import { DatasetRejection } from '../../../dataset/dataset-rejection.ts';
import { exportFinetuneLora, type FinetuneLoraInfo, type ImportedLora, InvalidLoraFile, importFinetuneLora } from '../../../model/backend.ts';
import { finetunePrefix, loraKey } from '../../blob-keys.ts';
import type { FinetuneWithStatus } from '../../tasks/finetune-store.ts';
import { insertImportedFinetune } from '../../tasks/imported-finetune.ts';
import { type BoundRoute, implement } from '../bind-routes.ts';
import { assertPublicWebhook, readyFinetune } from '../guards.ts';
import { detailError, fieldError } from '../http-errors.ts';
import { baseUrlOf, type ServiceContext } from '../service-context.ts';

/** GET /v1/finetune_weights and POST /v1/finetune_import: a finetune's LoRA out as a file other tools load, and a LoRA file in as a finetune. */
export function loraHandlers(ctx: ServiceContext): BoundRoute[] {
  return [
    implement(finetuneWeightsRoute, async ({ query, request, reply }) => {
      const ft = await readyFinetune(ctx, query.finetune_id, request.keyId);
      const stored = ft.lora_blob ? await ctx.blobs.get(ft.lora_blob) : null;
      if (!stored) throw detailError(404, 'Finetune weights not found');
      let file: Uint8Array;
      try {
        file = await exportFinetuneLora(stored, { format: query.format, dtype: query.dtype, finetune: loraInfo(ft) });
      } catch (err) {
        if (err instanceof InvalidLoraFile) throw detailError(500, `This finetune's weights cannot be exported: ${err.message}`);
        throw err;
      }
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', contentDisposition(weightsFileName(ft.finetune_comment, ft.id, query.format)))
        .header('cache-control', 'private, no-store')
        .send(Buffer.from(file.buffer, file.byteOffset, file.byteLength));
    }),

    implement(finetuneImportRoute, async ({ body, request }) => {
      assertPublicWebhook(ctx, body.webhook_url);
      // The whole file is checked before anything is written: a refused upload leaves no trace.
      let imported: ImportedLora;
      try {
        imported = await importFinetuneLora(decodeFileData(body.file_data));
      } catch (err) {
        if (!(err instanceof InvalidLoraFile)) throw err;
        throw fieldError('body', 'file_data', err.message, body.file_data);
      }
      const id = randomUUID();
      const triggerWord = body.trigger_word ?? imported.triggerWord ?? 'TOK';
      await ctx.blobs.put(loraKey(id), imported.bytes);
      try {
        await ctx.db.transaction((tx) =>
          insertImportedFinetune(tx, {
            id,
            keyId: request.keyId,
            region: ctx.config.region,
            comment: body.finetune_comment,
            triggerWord,
            loraRank: imported.rank,
            loraBlob: loraKey(id),
            input: importInputRecord(body, imported, triggerWord),
            webhookUrl: body.webhook_url,
            webhookSecret: body.webhook_secret,
          }),
        );
      } catch (err) {
        await ctx.blobs.deletePrefix(finetunePrefix(id)).catch(() => {});
        throw err;
      }
      if (body.webhook_url) ctx.webhooks?.notify();
      return {
        finetune_id: id,
        id,
        polling_url: `${baseUrlOf(ctx, request)}/v1/get_result?id=${id}`,
        status: 'Ready' as const,
        ...(body.webhook_url ? { webhook_url: body.webhook_url } : {}),
        layout: imported.layout,
        lora_rank: imported.rank,
        modules: imported.modules,
      };
    }),
  ];
}

function loraInfo(ft: FinetuneWithStatus): FinetuneLoraInfo {
  return {
    finetuneId: ft.id,
    comment: ft.finetune_comment,
    triggerWord: ft.trigger_word,
    mode: ft.mode,
    finetuneType: ft.finetune_type,
    iterations: ft.iterations,
    learningRate: ft.learning_rate,
    priority: ft.priority,
    imageCount: ft.image_count,
    createdAt: ft.created_at.toISOString(),
    // Imported finetunes are the ones that never trained here (imported-finetune.ts).
    imported: ft.iterations === 0 && ft.image_count === 0,
  };
}

/** The request as recorded on the task: never the file itself or the webhook secret. */
function importInputRecord(body: FinetuneImportRequest, imported: ImportedLora, triggerWord: string): Record<string, unknown> {
  const { file_data: _file, webhook_secret: _secret, ...rest } = body;
  return { ...rest, trigger_word: triggerWord, imported: { layout: imported.layout, lora_rank: imported.rank, modules: imported.modules } };
}

/** file_data → bytes, by the same rules as a finetune's ZIP (a `data:` prefix and line breaks tolerated). */
function decodeFileData(fileData: string): Uint8Array {
  try {
    // No cap of its own: the body limit already bounds it.
    return new Uint8Array(decodeBase64InPlace(Buffer.from(fileData, 'utf8'), Number.MAX_SAFE_INTEGER, 'text'));
  } catch (err) {
    if (err instanceof DatasetRejection) throw new InvalidLoraFile(err.message);
    throw err;
  }
}

/** `<finetune_comment>.<format>.safetensors`, the comment made a safe file name (the id when nothing of it is left). */
export function weightsFileName(comment: string, id: string, format: string): string {
  const cleaned = comment
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being removed.
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '-')
    .replace(/^[\s.-]+|[\s.-]+$/g, '');
  // By code point, so a name cut short never ends in half a surrogate pair.
  const stem = Array.from(cleaned).slice(0, 100).join('');
  return `${stem || id}.${format}.safetensors`;
}

/** RFC 6266: an ASCII `filename` for every client, the exact name in `filename*` (RFC 5987) for those that read it. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
