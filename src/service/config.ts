import { resolve } from 'node:path';
import { type BlobLocation, blobLocationFromEnv } from './storage/blob-location.ts';

/** Everything a deployment can set. Env names follow issue 4; flags on the CLI override them. */
export interface ServiceConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** <dataDir>/blobs, or an S3-compatible bucket (FLUXTUNE_BLOB_URL=s3://bucket/prefix) that every node shares. */
  blobs: BlobLocation;
  /** Finetunes are only visible in the region they were created in. */
  region: string;
  /** Base of polling and sample URLs (an absolute http(s) URL); when unset, taken from each request (see trustProxy). */
  publicUrl?: string;
  /** Honour X-Forwarded-Proto / X-Forwarded-Host (FLUXTUNE_TRUST_PROXY=1): only behind a proxy that sets them. */
  trustProxy: boolean;
  /** Registered at start so scripts and containers can use a known key. */
  apiKey?: string;
  captionApiUrl?: string;
  captionApiModel: string;
  captionApiKey?: string;
  webhookAllowPrivate: boolean;
  /** First retry delay; doubles per attempt. */
  webhookBackoffMs: number;
  webhookMaxAttempts: number;
  /** How often the outbox is checked for due retries. */
  webhookPollMs: number;
  maxActiveTasksPerKey: number;
  /** A worker that misses heartbeats for this long is presumed dead and its job is re-claimed. */
  leaseMs: number;
  jobMaxAttempts: number;
  jobRetryBackoffMs: number;
  signedUrlTtlSeconds: number;
  /** How long a verified x-key is trusted before the database is asked again (revocation delay). */
  keyCacheTtlMs: number;
  /** How long get_result may reuse a task row (0 disables). Status is at most this stale. */
  resultCacheTtlMs: number;
  /** Size caps for uploaded ZIPs (bytes). */
  maxZipBytes: number;
  /**
   * Nice value of the model's threads (Linux), so polling stays fast while a finetune trains; 0 = same as
   * the API. 19 by default (was 10): bench:api's p99 while a finetune trains was 7.5–11.4 ms over 5 runs
   * at 10 (1 over target), 6.0–9.7 ms over 7 at 19 (the HTTP thread's run-queue wait, ~1 s in 10, did not
   * move, so the gain may be noise). Niceness only costs the model time when the CPU is contended.
   */
  modelNice: number;
  /** Finetune uploads in progress (body arriving or being ingested) per key and in all; more are answered 429 / 503. */
  maxUploadsPerKey: number;
  maxUploads: number;
  /** Threads that parse, decode and check finetune uploads off the HTTP thread (started on the first upload). */
  uploadThreads: number;
  /**
   * All finetune uploads together are read at most this fast (MB/s, 0 = no limit; 64 is half a Gbit/s):
   * reading sockets costs the HTTP thread ~1 ms per MB, and at 128 MB/s four uploads took get_result's
   * p99 to 26 ms on a 2-core box (8 ms at 64, as idle).
   */
  uploadMbPerSecond: number;
}

type Env = Record<string, string | undefined>;

function num(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** FLUXTUNE_PUBLIC_URL is pasted in front of every polling and sample URL: only an absolute http(s) URL will do. */
function publicUrlFrom(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const fail = (why: string) =>
    new Error(`FLUXTUNE_PUBLIC_URL must be an absolute http(s) URL such as https://api.example.com (${why}), got ${JSON.stringify(raw)}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail(`scheme ${url.protocol}`);
  if (!url.hostname) throw fail('no host');
  if (url.username || url.password) throw fail('no user or password');
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) throw fail('no query or fragment');
  return raw.replace(/\/+$/, '');
}

export function configFromEnv(env: Env = process.env, overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  const base: ServiceConfig = {
    host: env.HOST ?? '127.0.0.1',
    port: num(env, 'PORT', 8787),
    dataDir: resolve(env.FLUXTUNE_DATA_DIR ?? './data'),
    databaseUrl: nonEmpty(env.DATABASE_URL),
    blobs: blobLocationFromEnv(env),
    region: env.FLUXTUNE_REGION ?? 'us1',
    publicUrl: publicUrlFrom(nonEmpty(env.FLUXTUNE_PUBLIC_URL)),
    trustProxy: env.FLUXTUNE_TRUST_PROXY === '1',
    apiKey: nonEmpty(env.FLUXTUNE_API_KEY),
    captionApiUrl: nonEmpty(env.CAPTION_API_URL),
    captionApiModel: env.CAPTION_API_MODEL ?? 'llava',
    captionApiKey: nonEmpty(env.CAPTION_API_KEY),
    webhookAllowPrivate: env.FLUXTUNE_WEBHOOK_ALLOW_PRIVATE === '1',
    webhookBackoffMs: num(env, 'FLUXTUNE_WEBHOOK_BACKOFF_MS', 2000),
    webhookMaxAttempts: num(env, 'FLUXTUNE_WEBHOOK_MAX_ATTEMPTS', 8),
    webhookPollMs: num(env, 'FLUXTUNE_WEBHOOK_POLL_MS', 1000),
    maxActiveTasksPerKey: num(env, 'FLUXTUNE_MAX_ACTIVE_TASKS', 24),
    leaseMs: num(env, 'FLUXTUNE_LEASE_MS', 30_000),
    jobMaxAttempts: num(env, 'FLUXTUNE_JOB_MAX_ATTEMPTS', 3),
    jobRetryBackoffMs: num(env, 'FLUXTUNE_JOB_RETRY_BACKOFF_MS', 5_000),
    signedUrlTtlSeconds: num(env, 'FLUXTUNE_SIGNED_URL_TTL_S', 600),
    keyCacheTtlMs: num(env, 'FLUXTUNE_KEY_CACHE_MS', 5_000),
    resultCacheTtlMs: num(env, 'FLUXTUNE_RESULT_CACHE_MS', 100),
    maxZipBytes: num(env, 'FLUXTUNE_MAX_ZIP_MB', 100) * 1024 * 1024,
    modelNice: Math.max(0, Math.min(19, Math.round(num(env, 'FLUXTUNE_MODEL_NICE', 19)))),
    maxUploadsPerKey: Math.max(1, num(env, 'FLUXTUNE_MAX_UPLOADS_PER_KEY', 2)),
    maxUploads: Math.max(1, num(env, 'FLUXTUNE_MAX_UPLOADS', 4)),
    uploadThreads: Math.max(1, Math.min(8, Math.round(num(env, 'FLUXTUNE_UPLOAD_THREADS', 1)))),
    uploadMbPerSecond: Math.max(0, num(env, 'FLUXTUNE_UPLOAD_MB_S', 64)),
  };
  return { ...base, ...overrides };
}
