// The seed guide's Python client (BFL's bfl_finetune.py, unmodified but for its base URL) against the
// real server process with the shipped model: request → progress → Ready → inference → sample → delete.
// Needs python3 with `requests`; skipped, saying why, where there is none.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { freshDataDir } from '../service/support/harness.ts';
import { type SpawnedServer, sceneZip, spawnServer } from './support/spawned-server.ts';

const KEY = 'ft_seed_client_key_0123456789';
const DRIVER = new URL('./seed-client/run_seed_flow.py', import.meta.url).pathname;

/** The first Python that can import requests (pyenv's python3, Debian's /usr/bin/python3 with python3-requests…). */
function findPython(): string | null {
  for (const exe of [process.env.FLUXTUNE_TEST_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean) as string[]) {
    const r = spawnSync(exe, ['-c', 'import requests'], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) return exe;
  }
  return null;
}

const python = findPython();
const skip = python ? false : 'no python3 with `requests` on this machine (apt-get install python3-requests, or pip install requests)';

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

describe("the seed's Python client (BFL's bfl_finetune.py)", () => {
  let server: SpawnedServer | undefined;
  let dataDir: string | undefined;
  let work: string | undefined;
  after(async () => {
    await server?.stop();
    for (const d of [dataDir, work]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('completes request → progress → Ready → inference → sample with only its base URL changed', { skip, timeout: 480_000 }, async () => {
    dataDir = await freshDataDir();
    work = await mkdtemp(join(tmpdir(), 'fluxtune-seed-client-'));
    const zipPath = join(work, 'finetuning.zip');
    const samplePath = join(work, 'sample.png');
    await writeFile(zipPath, await sceneZip(3));
    server = await spawnServer({ dataDir, apiKey: KEY });

    const { code, out } = await run(python!, [DRIVER, server.url, zipPath, samplePath], { ...process.env, BFL_API_KEY: KEY }, 420_000);
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
});
