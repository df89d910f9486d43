import { cp, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelBackend } from '../../../src/model/backend.ts';
import { configFromEnv, type ServiceConfig } from '../../../src/service/config.ts';
import { createServer, type RunningServer } from '../../../src/service/create-server.ts';
import { migrate, SCHEMA_VERSION } from '../../../src/service/storage/migrations.ts';
import { openPgliteDb } from '../../../src/service/storage/pglite-db.ts';

export const KEY_A = 'ft_test_key_A_0123456789abcdef';

/**
 * initdb of PGlite costs ~3 s; a migrated template is made once per machine and copied per test
 * (a copy is ~50 ms). Built in a temp dir and renamed, so parallel test files never see half of one.
 */
async function templateDir(): Promise<string> {
  const dir = join(tmpdir(), `fluxtune-test-pg-template-v${SCHEMA_VERSION}`);
  try {
    if ((await stat(join(dir, 'PG_VERSION'))).isFile()) return dir;
  } catch {}
  const building = await mkdtemp(join(tmpdir(), 'fluxtune-template-build-'));
  const db = await openPgliteDb(building);
  await migrate(db);
  await db.close();
  try {
    await rename(building, dir);
  } catch {
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

export async function freshDataDir(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fluxtune-test-'));
  await cp(await templateDir(), join(dataDir, 'pg'), { recursive: true });
  return dataDir;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  config: ServiceConfig;
  /** Stops the server; removes the data dir unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestServer(
  opts: {
    backend?: ModelBackend;
    env?: Record<string, string>;
    config?: Partial<ServiceConfig>;
    dataDir?: string;
    /** A Postgres DATABASE_URL instead of embedded PGlite; the data dir then holds only blobs. */
    databaseUrl?: string;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (opts.databaseUrl ? await mkdtemp(join(tmpdir(), 'fluxtune-test-')) : await freshDataDir());
  const config = configFromEnv(
    {
      FLUXTUNE_DATA_DIR: dataDir,
      FLUXTUNE_API_KEY: KEY_A,
      FLUXTUNE_WEBHOOK_ALLOW_PRIVATE: '1',
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      ...opts.env,
    },
    { host: '127.0.0.1', port: 0, leaseMs: 2_000, jobRetryBackoffMs: 50, webhookBackoffMs: 50, keyCacheTtlMs: 100, ...opts.config },
  );
  const server = await createServer({ config, backend: opts.backend });
  return {
    ...server,
    dataDir,
    config,
    async stop(stopOpts = {}) {
      await server.close();
      if (!stopOpts.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Minimal JSON-over-HTTP helper for contract tests (the SDK has its own tests). */
export function apiClient(baseUrl: string, key: string | undefined) {
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(key ? { 'x-key': key } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
  };
}

export async function waitUntil<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
