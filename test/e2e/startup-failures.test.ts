// A process that cannot serve exits at once, non-zero, saying why; a lock whose owner is gone (or a
// stale pid file naming some live process) never blocks a restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SpawnedServer, spawnServer } from './support/spawned-server.ts';

const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;
const KEY = 'ft_startup_failures_key_0123456789';

/** Runs `fluxtune serve` expecting it to fail: its exit code, how long it lived, and its stderr. */
function serveExpectingFailure(env: Record<string, string>, timeoutMs = 120_000): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FLUXTUNE_API_KEY: KEY, HOST: '127.0.0.1', ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the failing server was still alive after ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started, stderr });
    });
  });
}

describe('start-up failures', () => {
  let dataDir: string;
  let first: SpawnedServer;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fluxtune-startup-'));
    first = await spawnServer({ dataDir, apiKey: KEY });
  });
  after(async () => {
    await first?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a second server on a data directory in use exits 1 with the reason (model thread and all)', { timeout: 150_000 }, async () => {
    const r = await serveExpectingFailure({ FLUXTUNE_DATA_DIR: dataDir, PORT: '0' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is in use by another fluxtune process \(pid \d+\)/);
  });

  it('a server on a busy port exits 1 with the reason', { timeout: 150_000 }, async () => {
    const other = await mkdtemp(join(tmpdir(), 'fluxtune-startup-port-'));
    try {
      const r = await serveExpectingFailure({ FLUXTUNE_DATA_DIR: other, PORT: new URL(first.url).port });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /EADDRINUSE/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('restarts after kill -9, even with a stale pid file naming a live process', { timeout: 240_000 }, async () => {
    await first.kill9();
    // The pid-file lock of old treated this as a live owner for good (pid reuse after kill -9).
    await writeFile(join(dataDir, 'fluxtune.pid'), `${process.pid}\n`);
    first = await spawnServer({ dataDir, apiKey: KEY });
    const r = await fetch(`${first.url}/v1/my_finetunes`, { headers: { 'x-key': KEY } });
    assert.equal(r.status, 200);
  });
});
