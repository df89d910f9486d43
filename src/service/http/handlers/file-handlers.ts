import { filesRoute } from '../../../api/routes.ts';
import { getFinetuneById } from '../../tasks/finetune-store.ts';
import { getTaskById } from '../../tasks/task-store.ts';
import { type BoundRoute, implement } from '../bind-routes.ts';
import { detailError } from '../http-errors.ts';
import type { ServiceContext } from '../service-context.ts';

const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png' };

/** GET /v1/files/{sample|preview}/<task id>?exp&sig — the signed URLs that get_result hands out. */
export function fileHandlers(ctx: ServiceContext): BoundRoute[] {
  return [
    implement(filesRoute, async ({ params: { kind, id }, query, reply }) => {
      const step = query.step === undefined ? undefined : Number(query.step);
      const verdict = ctx.signer.verify(kind, id, query.exp, query.sig, Date.now(), step);
      if (verdict === 'invalid') throw detailError(403, 'Invalid signature');
      if (verdict === 'expired') throw detailError(403, 'This URL has expired; ask get_result for a fresh one');
      const key = await blobKeyOf(ctx, kind, id, step);
      // FLUXTUNE_S3_PRESIGN=1: the bytes come from the bucket, valid as long as this URL still is.
      if (key && ctx.blobs.presignedDownloadUrl) {
        const url = await ctx.blobs.presignedDownloadUrl(key, Number(query.exp) - Date.now() / 1000);
        return reply.header('cache-control', 'private, no-store').redirect(url, 302);
      }
      const bytes = key ? await ctx.blobs.get(key) : null;
      if (!key || !bytes) throw detailError(404, 'Not Found');
      const ext = key.slice(key.lastIndexOf('.') + 1);
      return reply
        .header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream')
        .header('cache-control', 'private, max-age=600')
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    }),
  ];
}

/** A task's sample, its latest preview, or (a finetune) its preview at one step. */
async function blobKeyOf(ctx: ServiceContext, kind: 'sample' | 'preview', id: string, step: number | undefined): Promise<string | null> {
  if (kind === 'preview' && step !== undefined) {
    const ft = await getFinetuneById(ctx.db, id);
    return ft?.previews.findLast((p) => p.step === step)?.blob ?? null;
  }
  const task = await getTaskById(ctx.db, id);
  if (!task) return null;
  return kind === 'sample' ? ((task.result as { sample_blob?: string } | null)?.sample_blob ?? null) : task.preview_blob;
}
