import type { FastifyInstance } from 'fastify';
import { DEFAULT_DATASET_LIMITS } from '../dataset/limits.ts';
import type { ModelBackend } from '../model/backend.ts';
import { bootstrapApiKeys } from './auth/bootstrap-keys.ts';
import { KeyVerifier } from './auth/key-verifier.ts';
import type { ServiceConfig } from './config.ts';
import { createCaptioner } from './create-captioner.ts';
import { buildHttpServer } from './http/server.ts';
import type { ServiceContext } from './http/service-context.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { releaseOrphanedLeases } from './jobs/queue.ts';
import { openStores } from './service-stores.ts';
import { UrlSigner } from './signed-urls.ts';
import type { BlobStore } from './storage/blob-store.ts';
import type { Db } from './storage/db.ts';
import { sweepOrphanedBlobs } from './storage/orphan-sweep.ts';
import { deploymentSecret } from './storage/settings.ts';
import { renderTask } from './tasks/render-task.ts';
import { TaskCache } from './tasks/task-cache.ts';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.ts';

/** With a shared Postgres, other processes may be between writing a task's blobs and committing it. */
const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface CreateServerOptions {
  config: ServiceConfig;
  /** The model. With it, this process also runs jobs; without it (scale-out), `fluxtune worker` processes do. */
  backend?: ModelBackend;
  log?: (msg: string) => void;
}

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  db: Db;
  blobs: BlobStore;
  runner?: JobRunner;
  /** The key created for a fresh data directory: print it once, it is not stored in the clear. */
  createdKey?: string;
  close(): Promise<void>;
}

/** The composition root: storage, keys, HTTP, job runner and webhook dispatcher, listening when it returns. */
export async function createServer(o: CreateServerOptions): Promise<RunningServer> {
  const { config } = o;
  const log = o.log ?? (() => {});
  const { db, blobs, blobsAt } = await openStores(config);
  try {
    if (config.blobs.kind === 's3') log(`blobs in ${blobsAt}`);
    // One process owns an embedded database, so any job still "running" lost its worker in a crash.
    if (db.kind === 'pglite') {
      const released = await releaseOrphanedLeases(db);
      if (released > 0) log(`resuming ${released} job(s) interrupted by the previous shutdown`);
    }
    const swept = await sweepOrphanedBlobs(db, blobs, { graceMs: db.kind === 'pglite' ? 0 : ORPHAN_GRACE_MS });
    if (swept.prefixes.length + swept.tempFiles > 0) {
      log(`removed ${swept.prefixes.length} blob folder(s) of uncommitted or deleted tasks and ${swept.tempFiles} unfinished write(s)`);
    }
    const { createdKey } = await bootstrapApiKeys(db, config.apiKey);
    const signer = new UrlSigner(await deploymentSecret(db, 'url_signing_secret'), config.signedUrlTtlSeconds);

    let baseUrl = config.publicUrl ?? '';
    const dispatcher = new WebhookDispatcher({
      db,
      renderTask: (task) => ({ ...renderTask(task, signer, baseUrl) }),
      allowPrivate: config.webhookAllowPrivate,
      backoffMs: config.webhookBackoffMs,
      maxAttempts: config.webhookMaxAttempts,
      pollMs: config.webhookPollMs,
      log,
    });
    const runner = o.backend
      ? new JobRunner({
          db,
          blobs,
          backend: o.backend,
          captioner: createCaptioner(config, o.backend),
          leaseMs: config.leaseMs,
          retryBackoffMs: config.jobRetryBackoffMs,
          onFinished: () => dispatcher.notify(),
          log,
        })
      : undefined;

    const ctx: ServiceContext = {
      db,
      blobs,
      config,
      keys: new KeyVerifier(db, config.keyCacheTtlMs),
      signer,
      taskCache: new TaskCache(db, config.resultCacheTtlMs),
      datasetLimits: { ...DEFAULT_DATASET_LIMITS, maxZipBytes: config.maxZipBytes },
      jobs: runner,
      webhooks: dispatcher,
    };
    const app = buildHttpServer(ctx);
    await app.listen({ host: config.host, port: config.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!config.publicUrl) baseUrl = url;
    dispatcher.start();
    runner?.start();

    return {
      app,
      url,
      db,
      blobs,
      runner,
      createdKey,
      async close() {
        await app.close();
        await runner?.stop();
        await dispatcher.stop();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
