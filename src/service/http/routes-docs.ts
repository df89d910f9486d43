import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { buildOpenApi } from './openapi.ts';
import type { ServiceContext } from './service-context.ts';

const WEB_DIR = new URL('../../../web/', import.meta.url);

/** /openapi.json, the human docs page (/docs) and the dashboard (/). No key needed to read docs. */
export function registerDocsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const openapi = buildOpenApi(ctx.config.region);
  app.get('/openapi.json', async () => openapi);
  const page = (file: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('content-type', 'text/html; charset=utf-8').send(await readFile(new URL(file, WEB_DIR)));
  app.get('/docs', page('docs.html'));
  app.get('/', page('index.html'));
}
