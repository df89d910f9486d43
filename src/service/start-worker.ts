import type { ModelBackend } from '../model/backend.ts';
import type { ServiceConfig } from './config.ts';
import { createCaptioner } from './create-captioner.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { openStores } from './service-stores.ts';

/**
 * A worker without HTTP (`fluxtune worker`): claims jobs from a shared Postgres. Embedded PGlite
 * cannot be shared between processes, so it is refused here — the server runs its own worker then.
 */
export async function startWorker(o: {
  config: ServiceConfig;
  backend: ModelBackend;
  log?: (msg: string) => void;
}): Promise<{ runner: JobRunner; close(): Promise<void> }> {
  if (!o.config.databaseUrl) {
    throw new Error('fluxtune worker needs DATABASE_URL (a shared Postgres); with the embedded database, `fluxtune serve` runs the worker itself');
  }
  const { db, blobs, blobsAt } = await openStores(o.config);
  if (o.config.blobs.kind === 'local') {
    // Fine for workers on the API node's machine; one elsewhere would train on images it cannot read.
    o.log?.(`blobs are in ${blobsAt} on this machine: workers on other machines need the same FLUXTUNE_BLOB_URL (S3) as the API nodes`);
  } else {
    o.log?.(`blobs in ${blobsAt}`);
  }
  const runner = new JobRunner({
    db,
    blobs,
    backend: o.backend,
    captioner: createCaptioner(o.config, o.backend),
    leaseMs: o.config.leaseMs,
    retryBackoffMs: o.config.jobRetryBackoffMs,
    log: o.log,
  });
  runner.start();
  return {
    runner,
    async close() {
      await runner.stop();
      await db.close();
    },
  };
}
