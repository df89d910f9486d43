import type { FastifyRequest } from 'fastify';
import type { DatasetLimits } from '../../dataset/limits.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { ServiceConfig } from '../config.ts';
import type { UrlSigner } from '../signed-urls.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Db } from '../storage/db.ts';
import type { TaskCache } from '../tasks/task-cache.ts';

/** What route handlers share. `jobs`/`webhooks` are absent when this process runs no worker/dispatcher. */
export interface ServiceContext {
  db: Db;
  blobs: BlobStore;
  config: ServiceConfig;
  keys: KeyVerifier;
  signer: UrlSigner;
  taskCache: TaskCache;
  datasetLimits: DatasetLimits;
  jobs?: { notify(): void; cancel(id: string): void };
  webhooks?: { notify(): void };
}

declare module 'fastify' {
  interface FastifyRequest {
    keyId: string;
  }
}

/** Base for polling and sample URLs: configured public URL, else what the client used to reach us. */
export function baseUrlOf(ctx: ServiceContext, request: FastifyRequest): string {
  if (ctx.config.publicUrl) return ctx.config.publicUrl;
  const proto = (request.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0]?.trim() || request.protocol;
  return `${proto}://${request.host}`;
}
