// The DATABASE_URL path (the `pg` driver) against a real PostgreSQL server started for this file:
// migrations, the job queue's claim/lease/heartbeat/retry SQL, SKIP LOCKED under concurrent workers,
// dropped connections, and the HTTP service end to end (in one process, and API-only + `fluxtune worker`).
// Skipped, saying why, on a machine without PostgreSQL binaries (.ci/ensure-postgres.sh installs them in CI).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { registerApiKey } from '../../src/service/auth/api-keys.ts';
import { configFromEnv } from '../../src/service/config.ts';
import { type ClaimedJob, claimJob, completeJob, failJob, heartbeat, recordCheckpoint, retryJobLater } from '../../src/service/jobs/queue.ts';
import { startWorker } from '../../src/service/start-worker.ts';
import type { Db } from '../../src/service/storage/db.ts';
import { SCHEMA_VERSION } from '../../src/service/storage/migrations.ts';
import { openDb } from '../../src/service/storage/open-db.ts';
import { insertTaskWithJob } from '../../src/service/tasks/task-store.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, waitUntil } from './support/harness.ts';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from './support/postgres.ts';

const skip = postgresUnavailable() ?? false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// openDb ignores dataDir when given a URL (no PGlite is created).
const open = (databaseUrl: string) => openDb({ dataDir: '/nonexistent-unused', databaseUrl });

async function zip(): Promise<string> {
  return b64(
    await buildZip([
      { name: 'a.png', data: await solidPng(16, 16) },
      { name: 'b.png', data: await solidPng(16, 16, [0, 0, 255]) },
    ]),
  );
}

/** Queues `n` jobs of `kind` for a fresh key, through the same insert the HTTP routes use. */
async function enqueue(db: Db, n: number, kind: 'finetune' | 'generate' = 'generate'): Promise<string[]> {
  const keyId = await registerApiKey(db, `ft_pg_test_${randomUUID()}`, 'pg-test');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    await db.transaction((tx) => insertTaskWithJob(tx, { id, keyId, kind, region: 'us1', input: { i } }, { maxActive: 1000, maxAttempts: 3 }));
    ids.push(id);
  }
  return ids;
}

describe('Postgres via DATABASE_URL (a real server)', { skip }, () => {
  let server: TestPostgres;
  before(async () => {
    server = await startTestPostgres();
  });
  after(() => server?.stop());

  describe('storage', () => {
    it('migrations apply on a fresh database and re-apply as a no-op on a second open', async () => {
      const url = await server.createDatabase();
      const db = await open(url);
      assert.equal(db.kind, 'postgres');
      const tables = await db.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = 'public' order by 1`);
      assert.deepEqual(
        tables.rows.map((r) => r.t),
        ['api_keys', 'finetunes', 'jobs', 'schema_migrations', 'settings', 'tasks', 'webhook_deliveries'],
      );
      const first = await db.query<{ version: number; applied_at: Date }>(`select version, applied_at from schema_migrations`);
      await db.close();

      const again = await open(url);
      const second = await again.query<{ version: number; applied_at: Date }>(`select version, applied_at from schema_migrations`);
      assert.deepEqual(second.rows, first.rows);
      assert.equal(second.rows.length, SCHEMA_VERSION);
      assert.ok(second.rows[0]!.applied_at instanceof Date, 'timestamptz comes back as Date over pg');
      await again.close();
    });

    it('several processes opening one fresh database at once all migrate it (they take turns)', async () => {
      // A race, so a few rounds: an unguarded `create table if not exists` loses it most of the time.
      const failures: string[] = [];
      for (let round = 0; round < 4; round++) {
        const url = await server.createDatabase();
        const results = await Promise.allSettled([1, 2, 3, 4].map(() => open(url)));
        failures.push(...results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)));
        for (const r of results) if (r.status === 'fulfilled') await r.value.close();
      }
      assert.deepEqual(failures, []);
    });

    it('survives the server dropping its connections, idle or inside a transaction', async () => {
      const url = await server.createDatabase();
      const db = await open(url);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // Idle pooled connections killed (server restart, failover, idle timeout): the next query reconnects.
        await db.query('select 1');
        const killed = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
        );
        assert.ok(killed.rowCount! >= 1);
        await sleep(200);
        assert.deepEqual((await db.query<{ x: number }>('select 1 as x')).rows, [{ x: 1 }]);

        // A connection killed while a transaction holds it: that transaction fails, the process and the pool live on.
        await assert.rejects(
          db.transaction(async (tx) => {
            const pid = (await tx.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
            await admin.query('select pg_terminate_backend($1)', [pid]);
            await sleep(200);
            await tx.query('select 1');
          }),
        );
        assert.deepEqual((await db.query<{ x: number }>('select 1 as x')).rows, [{ x: 1 }]);
        assert.equal(await db.transaction(async (tx) => (await tx.query<{ x: number }>('select 2 as x')).rows[0]!.x), 2);
      } finally {
        await admin.end();
        await db.close();
      }
    });
  });

  describe('job queue SQL', () => {
    let url: string;
    let db: Db;
    before(async () => {
      url = await server.createDatabase();
      db = await open(url);
    });
    after(() => db?.close());

    it('claim → lease → heartbeat → expiry take-over (checkpoint kept) → retry later → fail', async () => {
      const [id] = await enqueue(db, 1, 'finetune');
      const leaseMs = 400;
      const a = await claimJob(db, 'w1', leaseMs, ['finetune']);
      assert.deepEqual(a, { id, kind: 'finetune', attempts: 1, max_attempts: 3, checkpoint_blob: null, checkpoint_step: null });
      assert.equal(await claimJob(db, 'w2', leaseMs, ['finetune']), null, 'a live lease is not claimable');
      assert.equal(await claimJob(db, 'w2', leaseMs, ['generate']), null, 'other kinds do not see it');

      const lease = async () =>
        (await db.query<{ state: string; lease_owner: string; lease_expires_at: Date }>(`select * from jobs where id = $1`, [id])).rows[0]!;
      const before = await lease();
      assert.equal(before.state, 'running');
      assert.ok(before.lease_expires_at instanceof Date);
      await sleep(50);
      assert.equal(await heartbeat(db, id!, 'w1', leaseMs), true);
      assert.ok((await lease()).lease_expires_at > before.lease_expires_at, 'heartbeat extends the lease');
      assert.equal(await heartbeat(db, id!, 'w2', leaseMs), false, 'only the owner renews');
      await recordCheckpoint(db, id!, 'w1', `finetunes/${id}/checkpoint.bin`, 4);

      // w1 dies: once its lease runs out, w2 takes over with the checkpoint.
      await sleep(leaseMs + 200);
      const b = await claimJob(db, 'w2', leaseMs, ['finetune']);
      assert.deepEqual(b, { id, kind: 'finetune', attempts: 2, max_attempts: 3, checkpoint_blob: `finetunes/${id}/checkpoint.bin`, checkpoint_step: 4 });
      assert.equal(await heartbeat(db, id!, 'w1', leaseMs), false, 'the old owner learns it lost the lease');
      await recordCheckpoint(db, id!, 'w1', 'stale', 9);
      assert.equal((await db.query<{ checkpoint_step: number }>(`select checkpoint_step from jobs where id = $1`, [id])).rows[0]!.checkpoint_step, 4);

      // A failed attempt goes back to the queue, due only after its backoff.
      assert.equal(await retryJobLater(db, id!, 'w2', 'boom', 300), true);
      assert.equal(await claimJob(db, 'w3', leaseMs, ['finetune']), null, 'not due yet');
      const c = await waitUntil(() => claimJob(db, 'w3', leaseMs, ['finetune']), 5_000, 50);
      assert.equal(c.attempts, 3);
      const row = (await db.query<{ last_error: string; run_after: Date }>(`select last_error, run_after from jobs where id = $1`, [id])).rows[0]!;
      assert.equal(row.last_error, 'boom');
      assert.ok(row.run_after instanceof Date);

      await db.transaction((tx) => failJob(tx, id!, 'w3', 'gave up'));
      assert.equal(await claimJob(db, 'w4', 1, ['finetune']), null, 'failed jobs are never claimed');
      assert.equal(await heartbeat(db, id!, 'w3', leaseMs), false);
    });

    it('completed jobs are not claimed again; a deleted task takes its job with it', async () => {
      const [done, gone] = await enqueue(db, 2);
      const x = await claimJob(db, 'w', 10_000, ['generate']);
      assert.equal(x?.id, done);
      await db.transaction((tx) => completeJob(tx, done!, 'w'));
      await db.query(`delete from tasks where id = $1`, [gone]);
      assert.equal(await claimJob(db, 'w', 10_000, ['generate']), null);
    });

    it('two workers claiming concurrently never get the same job (FOR UPDATE SKIP LOCKED)', async () => {
      const ids = await enqueue(db, 40);
      // Two "processes": separate pools, eight claim loops each, all polling the one table at once.
      const workers = [db, await open(url)];
      const claims: { worker: number; job: ClaimedJob }[] = [];
      try {
        await Promise.all(
          workers.flatMap((w, worker) =>
            Array.from({ length: 8 }, async (_, loop) => {
              for (;;) {
                const job = await claimJob(w, `worker${worker}-loop${loop}`, 60_000, ['generate']);
                if (!job) return;
                claims.push({ worker, job });
              }
            }),
          ),
        );
      } finally {
        await workers[1]!.close();
      }
      const claimed = claims.map((c) => c.job.id);
      assert.equal(new Set(claimed).size, claimed.length, 'a job was handed to two claimers');
      assert.deepEqual([...claimed].sort(), [...ids].sort());
      assert.ok(claims.every((c) => c.job.attempts === 1));
      assert.ok(claims.some((c) => c.worker === 0) && claims.some((c) => c.worker === 1), 'both workers took jobs');
      const running = await db.query<{ n: number }>(`select count(*)::int as n from jobs where id = any($1::uuid[]) and state = 'running'`, [ids]);
      assert.equal(running.rows[0]!.n, ids.length);
    });

    it('a claimer skips a job row another transaction has locked instead of waiting for it', async () => {
      const [first, second] = await enqueue(db, 2);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select id from jobs where id = $1 for update', [first]);
        const timeout = sleep(3_000).then(() => 'blocked' as const);
        const got = await Promise.race([claimJob(db, 'w', 10_000, ['generate']), timeout]);
        assert.notEqual(got, 'blocked', 'claimJob waited on a locked row');
        assert.equal((got as ClaimedJob | null)?.id, second);
        await other.query('rollback');
        assert.equal((await claimJob(db, 'w', 10_000, ['generate']))?.id, first);
      } finally {
        await other.end();
      }
    });
  });

  describe('the service over HTTP on Postgres', () => {
    it('finetune round trip: submit → Ready → my_finetunes → details → inference → delete', async () => {
      const url = await server.createDatabase();
      const backend = new DeterministicTestBackend({ steps: 4, checkpointEvery: 2 });
      const srv = await startTestServer({ backend, databaseUrl: url });
      try {
        assert.equal(srv.db.kind, 'postgres');
        const api = apiClient(srv.url, KEY_A);
        const sub = await api.post('/v1/finetune', {
          file_data: await zip(),
          finetune_comment: 'on postgres',
          mode: 'product',
          learning_rate: 2e-5,
          iterations: 150,
        });
        assert.equal(sub.status, 200, JSON.stringify(sub.body));
        const id = sub.body.finetune_id as string;
        const ready = await waitUntil(async () => {
          const s = await api.get(`/v1/get_result?id=${id}`);
          assert.equal(s.status, 200);
          return s.body.status !== 'Pending' && s.body;
        });
        assert.equal(ready.status, 'Ready', JSON.stringify(ready));
        assert.deepEqual(ready.result, { finetune_id: id });
        assert.equal(ready.progress, 1);
        assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [id] });

        const details = (await api.get(`/v1/finetune_details?finetune_id=${id}`)).body.finetune_details;
        assert.equal(details.status, 'Ready');
        assert.equal(details.finetune_comment, 'on postgres');
        assert.equal(details.image_count, 2);
        assert.equal(details.learning_rate, 2e-5); // double precision round-trips as a number
        assert.equal(details.iterations, 150);
        assert.ok(!Number.isNaN(Date.parse(details.timestamp)), details.timestamp);

        const gen = await api.post('/v1/flux-pro-finetuned', { finetune_id: id, prompt: 'TOK on a shelf', seed: 1, width: 256, height: 256 });
        assert.equal(gen.status, 200, JSON.stringify(gen.body));
        const sample = await waitUntil(async () => {
          const s = await api.get(`/v1/get_result?id=${gen.body.id}`);
          return s.body.status === 'Ready' && s.body;
        });
        assert.equal((await fetch(sample.result.sample)).status, 200);

        const del = await api.post('/v1/delete_finetune', { finetune_id: id });
        assert.equal(del.status, 200);
        assert.equal(del.body.status, 'Deleted');
        assert.equal((await api.get(`/v1/get_result?id=${id}`)).status, 404);
        assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [] });
        const left = await srv.db.query<{ n: number }>(
          `select (select count(*) from finetunes where id = $1) + (select count(*) from jobs where id = $1) as n`,
          [id],
        );
        assert.equal(Number(left.rows[0]!.n), 0, 'rows cascade away');
        assert.equal(await srv.blobs.has(`finetunes/${id}/lora.safetensors`), false);
      } finally {
        await srv.stop();
      }
    });

    it("API-only server + separate worker: a crashed worker's job resumes from its checkpoint, a failed attempt is retried", async () => {
      const url = await server.createDatabase();
      const apiServer = await startTestServer({ databaseUrl: url, config: { leaseMs: 300 } });
      let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
      try {
        assert.equal(apiServer.runner, undefined);
        const api = apiClient(apiServer.url, KEY_A);
        const id = (await api.post('/v1/finetune', { file_data: await zip(), finetune_comment: 'scale-out', mode: 'general' })).body.finetune_id as string;

        // A worker claims it, checkpoints at step 2 and dies without a word.
        const doomed = await claimJob(apiServer.db, 'doomed-worker', 300, ['finetune']);
        assert.equal(doomed?.id, id);
        await apiServer.blobs.put(`finetunes/${id}/checkpoint.bin`, new Uint8Array(32).fill(7));
        await recordCheckpoint(apiServer.db, id, 'doomed-worker', `finetunes/${id}/checkpoint.bin`, 2);

        // `fluxtune worker` on the same database and blob dir; its first training attempt fails.
        const backend = new DeterministicTestBackend({ steps: 6, checkpointEvery: 2, failFirstTrains: 1 });
        const config = configFromEnv({ DATABASE_URL: url, FLUXTUNE_DATA_DIR: apiServer.dataDir }, { leaseMs: 300, jobRetryBackoffMs: 50 });
        worker = await startWorker({ config, backend });

        const done = await waitUntil(async () => {
          const s = await api.get(`/v1/get_result?id=${id}`);
          return s.body.status !== 'Pending' && s.body;
        });
        assert.equal(done.status, 'Ready', JSON.stringify(done));
        assert.deepEqual(
          backend.log.trains.map((t) => t.resumedFromStep),
          [2, 2],
        );
        const job = (
          await apiServer.db.query<{ state: string; attempts: number; last_error: string }>(`select state, attempts, last_error from jobs where id = $1`, [id])
        ).rows[0]!;
        assert.deepEqual(job, { state: 'done', attempts: 3, last_error: 'simulated training failure #1' });
        assert.equal(await apiServer.blobs.has(`finetunes/${id}/lora.safetensors`), true);
        assert.equal(await apiServer.blobs.has(`finetunes/${id}/checkpoint.bin`), false);
      } finally {
        await worker?.close();
        await apiServer.stop();
      }
    });
  });
});
