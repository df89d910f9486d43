import Fastify, { type FastifyInstance } from 'fastify';
import { authHook } from './auth-hook.ts';
import { registerDocsRoutes } from './routes-docs.ts';
import { registerFileRoutes } from './routes-files.ts';
import { registerFinetuneRoutes } from './routes-finetunes.ts';
import { registerInferenceRoutes } from './routes-inference.ts';
import { registerResultRoutes } from './routes-results.ts';
import type { ServiceContext } from './service-context.ts';

/** The HTTP surface. Knows nothing about models or workers; talks to the database, blobs and (optionally) an in-process job runner. */
export function buildHttpServer(ctx: ServiceContext): FastifyInstance {
  const app = Fastify({
    // A base64 ZIP is 4/3 of the ZIP; leave room for the other fields.
    bodyLimit: Math.ceil((ctx.config.maxZipBytes * 4) / 3) + 1024 * 1024,
    logger: false,
    // get_result is polled: keep-alive connections matter more than anything else here.
    keepAliveTimeout: 65_000,
  });

  // FastAPI answers malformed JSON with a 422, and parses JSON whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Object.assign(new Error((err as Error).message), { statusCode: 422, jsonInvalid: true }), undefined);
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; jsonInvalid?: boolean; code?: string }, _request, reply) => {
    if (err.jsonInvalid) {
      return reply.code(422).send({ detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: err.message } }] });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ detail: 'Request body too large' });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ detail: err.message });
    app.log.error(err);
    process.stderr.write(`fluxtune: ${err.stack ?? err.message}\n`);
    return reply.code(500).send({ detail: 'Internal Server Error' });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ detail: 'Not Found' }));

  registerDocsRoutes(app, ctx);
  registerFileRoutes(app, ctx);
  app.register(async (v1) => {
    v1.decorateRequest('keyId', '');
    // onRequest: a wrong key is refused before a 100 MB body is read and parsed.
    v1.addHook('onRequest', authHook(ctx));
    registerFinetuneRoutes(v1, ctx);
    registerInferenceRoutes(v1, ctx);
    registerResultRoutes(v1, ctx);
  });
  return app;
}
