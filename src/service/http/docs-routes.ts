import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { buildOpenApi } from '../../api/openapi.ts';
import { API_ROUTES } from '../../api/routes.ts';
import { detailError } from './http-errors.ts';
import type { ServiceContext } from './service-context.ts';

const WEB_DIR = new URL('../../../web/', import.meta.url);
const VERSION = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
// Swagger UI, served from its npm package: the docs page needs nothing from the network.
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
// The dashboard's bundle (built from web/src by `npm run build:web`, committed under web/dist).
const DASHBOARD_ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
const SWAGGER_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** /openapi.json (generated from the route table), /docs (Swagger UI over it) and the dashboard (/ and its /assets). No key needed. */
export function registerDocsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const openapi = buildOpenApi(API_ROUTES, { region: ctx.config.region, version: VERSION });
  app.get('/openapi.json', async () => openapi);
  const page = (file: string) => async (_req: unknown, reply: FastifyReply) =>
    reply.header('content-type', 'text/html; charset=utf-8').send(await readFile(new URL(file, WEB_DIR)));
  app.get('/docs', page('docs.html'));
  app.get('/', page('index.html'));
  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const type = DASHBOARD_ASSETS[request.params.file];
    if (!type) throw detailError(404, 'Not Found');
    // no-cache: the browser revalidates, so a new bundle is picked up at once after an upgrade.
    return reply
      .header('content-type', type)
      .header('cache-control', 'no-cache')
      .send(await readFile(new URL(`dist/${request.params.file}`, WEB_DIR)));
  });
  app.get<{ Params: { file: string } }>('/docs/assets/:file', async (request, reply) => {
    const type = SWAGGER_ASSETS[request.params.file];
    if (!type) throw detailError(404, 'Not Found');
    return reply
      .header('content-type', type)
      .header('cache-control', 'public, max-age=86400')
      .send(await readFile(join(SWAGGER_UI_DIR, request.params.file)));
  });
}
