// Scale-out on loopback: a real PostgreSQL (the queue), a real S3 API (s3rver: every blob), one API-only
// node (`serve --no-worker`) and two `fluxtune worker` processes with data directories of their own, so
// nothing is shared but Postgres and the bucket. Through the SDK: 6 finetunes and 20 generations, all
// Ready, each completed exactly once; one worker is SIGKILLed mid-finetune and the other resumes that
// finetune from the checkpoint the dead one left in S3; samples and LoRA downloads come from the API
// node; after the finetunes are deleted nothing of them is left in the bucket.
// The workers run a test double (test/e2e/support/multi-node-backend.ts: timed steps, real checkpoints,
// a real flux-mini LoRA file) so that the distribution, not the model, is what takes the time.
// Skipped, saying why, where PostgreSQL is absent (.ci/ensure-postgres.sh installs it in CI).

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { FluxtuneClient, type GenerationOutput } from '../../src/client/index.ts';
import { loadFluxMiniConfig } from '../../src/model/flux-mini/config.ts';
import { readLora } from '../../src/model/lora/files.ts';
import { checkpointKey } from '../../src/service/blob-keys.ts';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../service/support/postgres.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { sceneZip } from './support/scene-zip.ts';
import { type SpawnedServer, spawnServer } from './support/spawned-server.ts';
import { type SpawnedWorker, spawnWorker } from './support/spawned-worker.ts';

const KEY = 'ft_multi_node_key_0123456789abcdef';
const BACKEND = `${new URL('./support/multi-node-backend.ts', import.meta.url).pathname}#loadMultiNodeBackend`;
const STEPS = 20;
const skip = postgresUnavailable() ?? false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seedOf = (id: string) => createHash('sha256').update(id).digest().readUInt32LE(0);
const count = (log: string, re: RegExp) => [...log.matchAll(re)].length;

describe('multi-node: Postgres + S3 + an API-only node + two workers', { skip }, () => {
  let postgres: TestPostgres | undefined;
  let s3: TestS3 | undefined;
  let api: SpawnedServer | undefined;
  const workers: SpawnedWorker[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const w of workers) await w.kill9();
    await api?.kill9();
    await s3?.stop();
    await postgres?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('6 finetunes + 20 generations, a worker killed mid-finetune, everything exactly once, nothing left behind', { timeout: 240_000 }, async () => {
    const started = Date.now();
    [postgres, s3] = await Promise.all([startTestPostgres(), startTestS3()]);
    const databaseUrl = await postgres.createDatabase();
    const prefix = `e2e-${randomUUID().slice(0, 8)}`;
    const shared = { DATABASE_URL: databaseUrl, ...s3.env(prefix), FLUXTUNE_LEASE_MS: '3000', FLUXTUNE_JOB_RETRY_BACKOFF_MS: '100' };
    const dataDir = async () => {
      const d = await mkdtemp(join(tmpdir(), 'fluxtune-node-'));
      dirs.push(d);
      return d;
    };

    api = await spawnServer({ dataDir: await dataDir(), apiKey: KEY, args: ['--no-worker'], env: { ...shared, FLUXTUNE_MAX_ACTIVE_TASKS: '64' } });
    assert.match(api.log(), new RegExp(`blobs in s3://${s3.bucket}/${prefix}/`));
    assert.doesNotMatch(api.log(), /NodeVersionSupportWarning/, 'the SDK notice stays out of the server log');
    const workerEnv = async () => ({
      ...shared,
      FLUXTUNE_DATA_DIR: await dataDir(),
      FLUXTUNE_BACKEND_MODULE: BACKEND,
      FLUXTUNE_BACKEND_ARG: JSON.stringify({ steps: STEPS, stepDelayMs: 120, checkpointEvery: 5, generateDelayMs: 50 }),
    });
    workers.push(...(await Promise.all([spawnWorker({ env: await workerEnv() }), spawnWorker({ env: await workerEnv() })])));
    const bootedAt = Date.now() - started;

    const client = new FluxtuneClient({ baseUrl: api.url, apiKey: KEY });
    const zip = new Uint8Array(await sceneZip(2));
    const finetunes: string[] = [];
    const generations: string[] = [];
    const promptOf = new Map<string, string>();
    const submitted = (prompt: string, id: string) => {
      generations.push(id);
      promptOf.set(prompt, id);
    };
    for (let i = 0; i < 6; i++) {
      const r = await client.requestFinetuning(zip, { finetune_comment: `node ${i}`, mode: 'product', iterations: 100, captioning: false });
      finetunes.push(r.finetune_id);
      for (let g = 0; g < 2; g++) {
        const prompt = `base ${i}-${g}`;
        submitted(prompt, (await client.generate('flux-pro', { prompt, width: 256, height: 256 })).id);
      }
    }

    // Kill whichever worker is training a finetune that has a checkpoint in S3 and is not finished.
    const bucket = s3.store(prefix);
    let victim: SpawnedWorker | undefined;
    let resumed = '';
    const deadline = Date.now() + 60_000;
    while (!victim) {
      assert.ok(Date.now() < deadline, `no finetune reached a checkpoint in time:\n${workers.map((w) => w.log()).join('\n')}`);
      for (const id of finetunes) {
        const trainer = workers.find((w) => w.log().includes(`finetune ${id}: training ${100} steps from the start`));
        if (!trainer || !(await bucket.has(checkpointKey(id)))) continue;
        if ((await client.getResult(id)).status !== 'Pending') continue;
        victim = trainer;
        resumed = id;
        break;
      }
      if (!victim) await sleep(50);
    }
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await victim.kill9();
    // What the dead worker held: only these may have run twice (once there, unfinished, once again).
    const held = (await db.query<{ id: string }>(`select id::text as id from jobs where lease_owner = $1 and state = 'running'`, [victim.owner])).rows.map(
      (r) => r.id,
    );
    assert.ok(held.includes(resumed), `the killed worker held ${resumed}: ${JSON.stringify(held)}`);
    const survivor = workers.find((w) => w !== victim)!;

    // Generations on the finetunes, submitted while the survivor is still catching up.
    const ready = await Promise.all(finetunes.map((id) => client.waitFor(id, { timeoutMs: 120_000, intervalMs: 200 })));
    assert.deepEqual(
      ready.map((r) => r.result),
      finetunes.map((id) => ({ finetune_id: id })),
    );
    for (const [i, id] of finetunes.entries()) {
      for (let g = 0; g < (i < 2 ? 2 : 1); g++) {
        const prompt = `TOK ${i}-${g}`;
        submitted(prompt, (await client.finetuneInference(id, { endpoint: 'flux-pro-finetuned', prompt, width: 256, height: 256 })).id);
      }
    }
    assert.equal(generations.length, 20);
    const done = await Promise.all(generations.map((id) => client.waitFor<GenerationOutput>(id, { timeoutMs: 60_000, intervalMs: 200 })));

    // The survivor resumed the killed finetune from the dead worker's checkpoint, not from step 0.
    const resumeLine = new RegExp(`finetune ${resumed}: resuming from its checkpoint at step (\\d+)/100`);
    const step = Number(resumeLine.exec(survivor.log())?.[1]);
    assert.ok(step >= 5 && step < STEPS, `${survivor.log()}`);
    assert.equal(await bucket.has(checkpointKey(resumed)), false, 'the checkpoint goes once the LoRA is stored');

    // Samples and LoRAs come from the API node (it never ran a job; the bytes are in S3).
    for (const r of done) {
      assert.ok(r.result.sample.startsWith(api.url), r.result.sample);
      const jpeg = await client.downloadSample(r);
      assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
    }
    for (const id of finetunes) {
      const file = await client.downloadWeights(id, { format: 'bfl' });
      assert.ok(readLora(file, loadFluxMiniConfig().flux).size > 0, 'a LoRA file that loads');
    }

    // Exactly once: every job is done, each by one commit; the backend ran each task once, except
    // what the dead worker was in the middle of (which ran to completion once more, on the survivor).
    await Promise.all(workers.filter((w) => w !== victim).map((w) => w.stop()));
    const states = await db.query<{ state: string; n: number }>(`select state, count(*)::int as n from jobs group by state`);
    assert.deepEqual(states.rows, [{ state: 'done', n: 26 }]);
    const logs = workers.map((w) => w.log()).join('\n');
    for (const id of finetunes) {
      const n = count(logs, new RegExp(`train-done seed=${seedOf(id)} `, 'g'));
      assert.equal(n, 1, `finetune ${id} trained to the end exactly once (${n})`);
    }
    assert.equal(count(survivor.log(), new RegExp(`train-done seed=${seedOf(resumed)} resumed=\\d+`, 'g')), 1);
    const prompts = [...logs.matchAll(/generate prompt=(.+)/g)].map((m) => m[1]!);
    for (const p of promptOf.keys()) assert.ok(prompts.includes(p), `generation "${p}" ran`);
    const twice = prompts.filter((p, i) => prompts.indexOf(p) !== i);
    for (const p of twice) assert.ok(held.includes(promptOf.get(p)!), `"${p}" ran twice but the dead worker did not hold it`);
    const byWorker = workers.map((w) => count(w.log(), /\[test-backend\] (train-done|generate)/g));
    assert.ok(
      byWorker.every((n) => n > 0),
      `both workers ran jobs: ${byWorker}`,
    );

    // Deleting the finetunes leaves nothing of them in the bucket; the 20 samples stay (generations are not deleted).
    for (const id of finetunes) assert.equal((await client.deleteFinetune(id)).status, 'Deleted');
    assert.deepEqual(await bucket.listChildren('finetunes'), []);
    assert.deepEqual((await bucket.listChildren('tasks')).map((c) => c.name).sort(), [...generations].sort());
    await db.end();
    bucket.close();
    console.log(
      `# multi-node e2e: nodes up at ${(bootedAt / 1000).toFixed(1)} s, worker killed during ${resumed} (resumed at step ${step}), ` +
        `jobs per worker ${byWorker.join('/')}, all done at ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});
