import Fastify, { type FastifyInstance } from 'fastify';
import { finetuneRoute } from '../../api/routes.ts';
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
import { uploadBodyParser } from './upload-parser.ts';
import { UploadPool } from './upload-pool.ts';
import { zodValidatorCompiler } from './zod-validator.ts';

/** An upload's fields other than file_data (a comment, a trigger word, a webhook): generous, and never a database-sized string. */
const UPLOAD_FIELDS_LIMIT = 1024 * 1024;

/** The HTTP surface. Knows nothing about models or workers; talks to the database, blobs and (optionally) an in-process job runner. */
export function buildHttpServer(ctx: ServiceContext): FastifyInstance {
  const app = Fastify({
    // A base64 ZIP is 4/3 of the ZIP; leave room for the other fields. (Routes other than the upload
    // still JSON.parse their bodies on this thread, ~2 ms per MB.)
    bodyLimit: Math.ceil((ctx.config.maxZipBytes * 4) / 3) + UPLOAD_FIELDS_LIMIT,
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
  const routes = [...finetuneHandlers(ctx), ...resultHandlers(ctx), ...inferenceHandlers(ctx), ...fileHandlers(ctx), ...loraHandlers(ctx)];
  registerRoutes(
    app,
    ctx,
    routes.filter((r) => r.route !== finetuneRoute),
  );

  // POST /v1/finetune: up to ~134 MB of base64. This thread only passes its chunks on (at most
  // uploadMbPerSecond for all uploads together) to upload threads, which gather, parse, decode and check
  // it: JSON.parse, the base64 and the ZIP took 0.7–2 s of this thread per upload before (UploadPool).
  // In a scope of its own, so that parser serves this route only.
  const uploads = new UploadPool({
    threads: ctx.config.uploadThreads,
    maxPerKey: ctx.config.maxUploadsPerKey,
    maxTotal: ctx.config.maxUploads,
    nice: 10,
    bytesPerSecond: ctx.config.uploadMbPerSecond * 1024 * 1024,
  });
  app.decorate('uploadPool', uploads);
  app.addHook('onClose', () => uploads.close());
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      uploadBodyParser(uploads, {
        bodyLimit: Math.ceil((ctx.config.maxZipBytes * 4) / 3) + UPLOAD_FIELDS_LIMIT,
        maxFieldBytes: UPLOAD_FIELDS_LIMIT,
        limits: ctx.datasetLimits,
      }),
    );
    registerRoutes(
      scope,
      ctx,
      routes.filter((r) => r.route === finetuneRoute),
    );
  });
  return app;
}
