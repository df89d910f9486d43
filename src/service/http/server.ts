import Fastify, { type FastifyInstance } from 'fastify';
import { registerRoutes } from './bind-routes.ts';
import { dropMalformedContentType } from './content-type.ts';
import { registerDocsRoutes } from './docs-routes.ts';
import { errorHandler } from './error-handler.ts';
import { fileHandlers } from './handlers/file-handlers.ts';
import { finetuneHandlers } from './handlers/finetune-handlers.ts';
import { inferenceHandlers } from './handlers/inference-handlers.ts';
import { loraHandlers } from './handlers/lora-handlers.ts';
import { resultHandlers } from './handlers/result-handlers.ts';
import type { ServiceContext } from './service-context.ts';
import { zodValidatorCompiler } from './zod-validator.ts';

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

  app.addHook('onRequest', dropMalformedContentType);
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ detail: 'Not Found' }));
  app.decorateRequest('keyId', '');

  registerDocsRoutes(app, ctx);
  registerRoutes(app, ctx, [...finetuneHandlers(ctx), ...resultHandlers(ctx), ...inferenceHandlers(ctx), ...fileHandlers(ctx), ...loraHandlers(ctx)]);
  return app;
}
