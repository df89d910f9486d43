// The actual server process (`fluxtune serve` with the shipped flux-mini) on one data directory, through
// one life: start-up failures beside it, the seed guide's Python client against it, then a real crash.
// The checks share the process (each server start loads the model: the suite starts two where it used
// to start seven); each is its own subtest, in this order:
// - a process that cannot serve exits at once, non-zero, saying why;
// - BFL's bfl_finetune.py, unmodified but for its base URL: request → progress → Ready → inference →
//   sample → delete (needs python3 with `requests`; skipped, saying why, where there is none);
// - kill -9 while a finetune trains, after its step-50 checkpoint was stored; a stale pid file naming a
//   live process never blocks the restart on the same data directory; the finetune finishes with nothing
//   lost, resuming from the checkpoint rather than starting over, and the crash does not count as a
//   failed attempt.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { apiClient, freshDataDir, waitUntil } from '../service/support/harness.ts';
import { startFluxtune } from './support/fluxtune-process.ts';
import { sceneZip } from './support/scene-zip.ts';
import { type SpawnedServer, spawnServer } from './support/spawned-server.ts';

const KEY = 'ft_server_process_key_0123456789ab';
const SEED_DRIVER = new URL('./seed-client/run_seed_flow.py', import.meta.url).pathname;

/** The first Python that can import requests (pyenv's python3, Debian's /usr/bin/python3 with python3-requests…). */
function findPython(): string | null {
  for (const exe of [process.env.FLUXTUNE_TEST_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean) as string[]) {
    const r = spawnSync(exe, ['-c', 'import requests'], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) return exe;
  }
  return null;
}
const python = findPython();

/** Runs `fluxtune serve` expecting it to fail: its exit code and its stderr. */
async function serveExpectingFailure(env: Record<string, string>, timeoutMs = 120_000): Promise<{ code: number | null; stderr: string }> {
  const p = startFluxtune('serve', { env: { FLUXTUNE_API_KEY: KEY, HOST: '127.0.0.1', ...env } });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the failing server was still alive after ${timeoutMs} ms:\n${p.log()}`)), timeoutMs);
  });
  try {
    const { code } = await Promise.race([p.exited, timedOut]);
    return { code, stderr: p.log() };
  } finally {
    clearTimeout(timer);
    await p.kill9();
  }
}

/** Runs a command to its end: exit code and stdout + stderr together. */
function run(exe: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(exe, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('fluxtune serve as a process: start-up failures, the seed client, kill -9 during training', () => {
  let dataDir: string;
  let server: SpawnedServer;
  const servers: SpawnedServer[] = [];
  const scratch: string[] = [];
  before(async () => {
    dataDir = await freshDataDir();
    server = await spawnServer({ dataDir, apiKey: KEY });
    servers.push(server);
  });
  after(async () => {
    for (const s of servers) await s.kill9();
    for (const d of [dataDir, ...scratch]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('a second server on a data directory in use exits 1 with the reason (model thread and all)', { timeout: 150_000 }, async () => {
    const r = await serveExpectingFailure({ FLUXTUNE_DATA_DIR: dataDir, PORT: '0' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is in use by another fluxtune process \(pid \d+\)/);
  });

  it('a server on a busy port exits 1 with the reason', { timeout: 150_000 }, async () => {
    const other = await mkdtemp(join(tmpdir(), 'fluxtune-startup-port-'));
    try {
      const r = await serveExpectingFailure({ FLUXTUNE_DATA_DIR: other, PORT: new URL(server.url).port });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /EADDRINUSE/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("the seed's Python client (BFL's bfl_finetune.py) completes request → progress → Ready → inference → sample with only its base URL changed", {
    skip: python ? false : 'no python3 with `requests` on this machine (apt-get install python3-requests, or pip install requests)',
    timeout: 480_000,
  }, async () => {
    const work = await mkdtemp(join(tmpdir(), 'fluxtune-seed-client-'));
    scratch.push(work);
    const zipPath = join(work, 'finetuning.zip');
    const samplePath = join(work, 'sample.png');
    await writeFile(zipPath, await sceneZip(3));

    const { code, out } = await run(python!, [SEED_DRIVER, server.url, zipPath, samplePath], { ...process.env, BFL_API_KEY: KEY }, 420_000);
    assert.equal(code, 0, `${out}\n--- server log ---\n${server.log()}`);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!);

    assert.equal(summary.finetune_result.status, 'Ready');
    assert.deepEqual(summary.finetune_result.result, { finetune_id: summary.finetune_id });
    assert.ok(
      summary.progress_seen.some((p: number) => p > 0 && p < 1),
      `progress was reported while training: ${JSON.stringify(summary.progress_seen)}`,
    );
    assert.equal(summary.listed, true);
    assert.equal(summary.details.finetune_comment, 'seed client e2e');
    assert.equal(summary.details.iterations, 100);
    assert.equal(summary.details.priority, 'speed');
    assert.equal(summary.details.finetune_type, 'lora');
    assert.equal(summary.details.captioning, false);
    assert.equal(summary.polling_url, `${server.url}/v1/get_result?id=${summary.inference_id}`);
    assert.equal(summary.inference_result.prompt, 'image of a TOK');
    assert.equal(summary.inference_result.seed, 7);

    const png = await readFile(samplePath);
    assert.equal(png.length, summary.sample_bytes);
    assert.equal(summary.sample_content_type, 'image/png');
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(Math.abs(meta.width! / meta.height! - 16 / 9) < 0.05, `ultra's default 16:9 aspect (${meta.width}×${meta.height})`);

    assert.equal(summary.deleted.status, 'Deleted');
    assert.equal(summary.gone_after_delete, true);
  });

  it('kill -9 during training: restarts, resumes from the last checkpoint and finishes with nothing lost', { timeout: 300_000 }, async (t) => {
    const started = Date.now();
    const first = server;
    let api = apiClient(first.url, KEY);
    // The seed client deletes its finetune: what this key owns now is only what this check submits.
    assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [] });

    const submitted = await api.post('/v1/finetune', {
      file_data: (await sceneZip(3)).toString('base64'),
      finetune_comment: 'survives kill -9',
      mode: 'character',
      trigger_word: 'TOK',
      iterations: 100,
      priority: 'speed',
      finetune_type: 'lora',
      lora_rank: 16,
      captioning: false,
    });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const id = submitted.body.finetune_id as string;
    const detailsBefore = (await api.get(`/v1/finetune_details?finetune_id=${id}`)).body.finetune_details;

    // The trainer checkpoints every 50 steps and awaits the write before step 51, so progress past
    // one half means the step-50 checkpoint is in the blob store and recorded on the job.
    const checkpointFile = join(dataDir, 'blobs', 'finetunes', id, 'checkpoint.bin');
    const atKill = await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${id}`);
        assert.equal(r.body.status, 'Pending', JSON.stringify(r.body));
        return typeof r.body.progress === 'number' && r.body.progress > 0.5 && r.body.progress;
      },
      180_000,
      100,
    );
    assert.ok(existsSync(checkpointFile), 'the step-50 checkpoint is on disk before the crash');
    assert.match(first.log(), new RegExp(`finetune ${id}: training 100 steps from the start \\(attempt 1\\)`));
    await first.kill9();
    assert.equal(first.child.signalCode, 'SIGKILL');
    const killedAfter = Date.now() - started;

    let second: SpawnedServer | undefined;
    await t.test('restarts after kill -9, even with a stale pid file naming a live process', async () => {
      // The pid-file lock of old treated this as a live owner for good (pid reuse after kill -9).
      await writeFile(join(dataDir, 'fluxtune.pid'), `${process.pid}\n`);
      second = await spawnServer({ dataDir, apiKey: KEY });
      servers.push(second);
      const r = await fetch(`${second.url}/v1/my_finetunes`, { headers: { 'x-key': KEY } });
      assert.equal(r.status, 200);
      // Everything the first process acknowledged is still there, before the job even resumes.
      assert.deepEqual(await r.json(), { finetunes: [id] });
    });
    assert.ok(second, 'the server restarted');
    api = apiClient(second.url, KEY);

    let lowest = 1;
    const ready = await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${id}`);
        assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
        if (r.body.status === 'Pending' && typeof r.body.progress === 'number') lowest = Math.min(lowest, r.body.progress);
        return r.body.status === 'Ready' && r.body;
      },
      180_000,
      100,
    );
    assert.deepEqual(ready.result, { finetune_id: id });
    assert.ok(lowest >= 0.5, `progress never went back to the start after the restart (lowest ${lowest}, ${atKill} at the kill)`);

    const log = second.log();
    assert.match(log, /resuming 1 job\(s\) interrupted by the previous shutdown/);
    // Resumed from the stored checkpoint, and the crash was not counted as a failed attempt.
    assert.match(log, new RegExp(`finetune ${id}: resuming from its checkpoint at step 50/100 \\(attempt 1\\)`), log);

    // Nothing lost: same id listed, same details, a stored LoRA, and the checkpoint cleaned up.
    assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [id] });
    const detailsAfter = (await api.get(`/v1/finetune_details?finetune_id=${id}`)).body.finetune_details;
    for (const key of [
      'finetune_comment',
      'trigger_word',
      'mode',
      'finetune_type',
      'lora_rank',
      'iterations',
      'learning_rate',
      'priority',
      'captioning',
      'timestamp',
      'image_count',
      'region',
    ]) {
      assert.deepEqual(detailsAfter[key], detailsBefore[key], key);
    }
    assert.equal(detailsAfter.status, 'Ready');
    assert.equal(detailsAfter.captions.length, 3);
    assert.ok(existsSync(join(dataDir, 'blobs', 'finetunes', id, 'lora.safetensors')), 'the LoRA is stored');
    assert.ok(!existsSync(checkpointFile), 'the checkpoint is dropped once the LoRA is stored');

    if (process.env.KILL9_DEBUG) console.log(`${first.log()}\n---- after kill -9 ----\n${second.log()}`);
    await second.stop();
    assert.equal(second.child.exitCode, 0, second.log());
    console.log(`# kill -9 e2e: killed at ${(killedAfter / 1000).toFixed(1)} s (progress ${atKill}), Ready at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
