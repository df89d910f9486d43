import type { FastifyInstance } from 'fastify';
import { getTaskById } from '../tasks/task-store.ts';
import type { SignedKind } from '../signed-urls.ts';
import type { ServiceContext } from './service-context.ts';

const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png' };

/** GET /v1/files/{sample|preview}/<task id>?exp&sig — the signed URLs that get_result hands out. No x-key: the signature is the credential. */
export function registerFileRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get<{ Params: { kind: string; id: string }; Querystring: { exp?: string; sig?: string } }>('/v1/files/:kind/:id', async (request, reply) => {
    const { kind, id } = request.params;
    if (kind !== 'sample' && kind !== 'preview') return reply.code(404).send({ detail: 'Not Found' });
    const verdict = ctx.signer.verify(kind as SignedKind, id, request.query.exp, request.query.sig);
    if (verdict === 'invalid') return reply.code(403).send({ detail: 'Invalid signature' });
    if (verdict === 'expired') return reply.code(403).send({ detail: 'This URL has expired; ask get_result for a fresh one' });
    const task = await getTaskById(ctx.db, id);
    const key = !task ? null : kind === 'sample' ? ((task.result as { sample_blob?: string } | null)?.sample_blob ?? null) : task.preview_blob;
    const bytes = key ? await ctx.blobs.get(key) : null;
    if (!key || !bytes) return reply.code(404).send({ detail: 'Not Found' });
    const ext = key.slice(key.lastIndexOf('.') + 1);
    return reply
      .header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream')
      .header('cache-control', 'private, max-age=600')
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  });
}
