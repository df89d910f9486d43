// npm run bench:scale — jobs per minute with 1 and then 2 `fluxtune worker` processes sharing one queue
// (a real PostgreSQL) and one bucket (s3rver, a real S3 API) behind an API-only node (`serve --no-worker`),
// all on this machine; the ratio 2 workers : 1 is the figure. Meanwhile: the queue's claim latency (how
// long an idle worker takes to pick up a job: workers on other machines learn of jobs by polling every
// 500 ms) and the claim query's own round trip, and get_result's p50/p99 on the API node under steady polling.
//
// Two workloads, each run with 1 and 2 workers:
//   flux-mini   the shipped model generating (256×256, --steps): CPU-bound, so on a machine of C cores two
//               workers can at best share the same C cores (each model uses all of them) — expect about 1×
//               here on 2 cores; a second machine, or a GPU per worker, is what adds throughput.
//   test double timed steps that sleep (test/e2e/support/multi-node-backend.ts): no CPU, so the ratio is
//               what the queue and the storage allow — ideally 2×.
// Flags: --jobs N (flux-mini jobs per phase, default 12), --double-jobs N (default 64: enough 1 s jobs that
// the start and the idle pick-up do not dominate), --steps N (flux-mini sampling steps, default 20), --rate N
// (get_result requests per second, default 200), --only flux-mini|double, --json (a last line `bench-scale {…}`).
// Needs PostgreSQL binaries (as test/service/postgres.test.ts; .ci/ensure-postgres.sh).

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { type SpawnedServer, spawnServer } from '../test/e2e/support/spawned-server.ts';
import { type SpawnedWorker, spawnWorker } from '../test/e2e/support/spawned-worker.ts';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../test/service/support/postgres.ts';
import { startTestS3, type TestS3 } from '../test/support/s3-server.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const JOBS = Number(arg('jobs', '12'));
const DOUBLE_JOBS = Number(arg('double-jobs', '64'));
const STEPS = Number(arg('steps', '20'));
const RATE = Number(arg('rate', '200'));
const ONLY = arg('only', '');
const JSON_OUT = argv.includes('--json');
const KEY = 'ft_bench_scale_key_0123456789abcdef';
const DOUBLE = `${new URL('../test/e2e/support/multi-node-backend.ts', import.meta.url).pathname}#loadMultiNodeBackend`;

interface Workload {
  name: 'flux-mini' | 'double';
  jobs: number;
  env: Record<string, string>;
}
const WORKLOADS: Workload[] = [
  { name: 'flux-mini', jobs: JOBS, env: {} },
  // 1 s a job, sleeping, nothing computed.
  { name: 'double', jobs: DOUBLE_JOBS, env: { FLUXTUNE_BACKEND_MODULE: DOUBLE, FLUXTUNE_BACKEND_ARG: JSON.stringify({ generateDelayMs: 1000 }) } },
];

interface PhaseResult {
  workload: string;
  workers: number;
  jobs: number;
  seconds: number;
  jobsPerMinute: number;
  /** Idle worker: job committed → claimed (ms). */
  claimLatencyMs: { p50: number; max: number; samples: number };
  /** The claim statement's round trip while the workers are busy (ms). */
  claimQueryMs: { p50: number; p99: number };
  getResult: { p50: number; p90: number; p99: number; max: number; requests: number; errors: number };
  /** Jobs seen running on each worker (sampled every 25 ms: a very short job may be missed). */
  jobsPerWorker: number[];
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(url: string, body: unknown): Promise<{ id: string }> {
  const r = await fetch(url, { method: 'POST', headers: { 'x-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { id: string };
}

/** get_result at a steady rate over keep-alive connections; latency of each, from its scheduled start. */
function pollGetResult(baseUrl: string, id: string, rate: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const url = new URL(`/v1/get_result?id=${id}`, baseUrl);
  const latencies: number[] = [];
  let errors = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const one = (scheduled: number) =>
    new Promise<void>((resolve) => {
      const req = http.get(url, { agent, headers: { 'x-key': KEY } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - scheduled);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const started = performance.now();
  let sent = 0;
  const tick = () => {
    if (stopped) return;
    // Open loop: requests due by now go out even if earlier ones are slow (no coordinated omission).
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const p = one(started + (sent / rate) * 1000);
      inFlight.add(p);
      p.then(() => inFlight.delete(p));
    }
    setTimeout(tick, 2);
  };
  tick();
  return {
    async stop() {
      stopped = true;
      await Promise.all(inFlight);
      agent.destroy();
      return { latencies, errors };
    },
  };
}

async function phase(pgServer: TestPostgres, s3: TestS3, workload: Workload, n: number): Promise<PhaseResult> {
  const databaseUrl = await pgServer.createDatabase();
  const prefix = `bench-${workload.name}-${n}-${randomUUID().slice(0, 8)}`;
  const shared = { DATABASE_URL: databaseUrl, ...s3.env(prefix) };
  const dirs: string[] = [];
  const dataDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'fluxtune-bench-scale-'));
    dirs.push(d);
    return d;
  };
  let api: SpawnedServer | undefined;
  const workers: SpawnedWorker[] = [];
  // A pool: the probes below query concurrently.
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  try {
    api = await spawnServer({ dataDir: await dataDir(), apiKey: KEY, args: ['--no-worker'], env: { ...shared, FLUXTUNE_MAX_ACTIVE_TASKS: '100000' } });
    for (let i = 0; i < n; i++) workers.push(await spawnWorker({ env: { ...shared, ...workload.env, FLUXTUNE_DATA_DIR: await dataDir() } }));
    const request = (i: number) => ({ prompt: `a red apple on a table ${i}`, width: 256, height: 256, steps: STEPS, seed: i });
    const endpoint = `${api.url}/v1/flux-pro`;
    const waitDone = async (ids: string[]) => {
      for (;;) {
        const r = await db.query<{ n: number }>(`select count(*)::int as n from jobs where id = any($1::uuid[]) and state = 'done'`, [ids]);
        if (r.rows[0]!.n === ids.length) return;
        const failed = await db.query(`select id, last_error from jobs where id = any($1::uuid[]) and state = 'failed'`, [ids]);
        if (failed.rows.length) throw new Error(`jobs failed: ${JSON.stringify(failed.rows)}`);
        await sleep(20);
      }
    };

    // Claim latency with the workers idle: one job at a time, polled in the database until it is claimed.
    // The first one also warms the model (its run is not timed).
    const claimLatencies: number[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(Math.random() * 300);
      const t0 = performance.now();
      const { id } = await post(endpoint, request(-1 - i));
      for (;;) {
        const r = await db.query<{ owner: string | null }>(`select lease_owner as owner from jobs where id = $1`, [id]);
        if (r.rows[0]?.owner) break;
        await sleep(2);
      }
      if (i > 0) claimLatencies.push(performance.now() - t0);
      await waitDone([id]);
    }
    const probeId = (await db.query<{ id: string }>(`select id::text as id from tasks limit 1`)).rows[0]!.id;

    // Throughput: all jobs at once, get_result polled meanwhile, the claim query timed alongside.
    const load = pollGetResult(api.url, probeId, RATE);
    const claimQuery: number[] = [];
    // A finished job keeps no owner, so who ran what is sampled while jobs run.
    const ranBy = new Map<string, string>();
    let timing = true;
    const ownerProbe = (async () => {
      while (timing) {
        const r = await db.query<{ id: string; owner: string }>(`select id::text as id, lease_owner as owner from jobs where state = 'running'`);
        for (const row of r.rows) ranBy.set(row.id, row.owner);
        await sleep(25);
      }
    })();
    const claimProbe = (async () => {
      while (timing) {
        const t = performance.now();
        // A kind nobody queues: the same statement and index walk as a real claim, taking nothing.
        await db.query(
          `with next as (select id from jobs where kind = 'bench-none' and ((state = 'queued' and run_after <= now()) or (state = 'running' and lease_expires_at < now()))
             order by created_at, id limit 1 for update skip locked)
           update jobs j set lease_owner = j.lease_owner from next where j.id = next.id returning j.id`,
        );
        claimQuery.push(performance.now() - t);
        await sleep(50);
      }
    })();
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < workload.jobs; i++) ids.push((await post(endpoint, request(i))).id);
    await waitDone(ids);
    const seconds = (performance.now() - t0) / 1000;
    timing = false;
    await Promise.all([claimProbe, ownerProbe]);
    const { latencies, errors } = await load.stop();
    const ran = ids.map((id) => ranBy.get(id));
    return {
      workload: workload.name,
      workers: n,
      jobs: workload.jobs,
      seconds,
      jobsPerMinute: (workload.jobs / seconds) * 60,
      claimLatencyMs: { p50: pct(claimLatencies, 50), max: Math.max(...claimLatencies), samples: claimLatencies.length },
      claimQueryMs: { p50: pct(claimQuery, 50), p99: pct(claimQuery, 99) },
      getResult: { p50: pct(latencies, 50), p90: pct(latencies, 90), p99: pct(latencies, 99), max: Math.max(...latencies), requests: latencies.length, errors },
      jobsPerWorker: workers.map((w) => ran.filter((o) => o === w.owner).length),
    };
  } finally {
    await db.end().catch(() => {});
    for (const w of workers) await w.stop();
    await api?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

async function main() {
  const why = postgresUnavailable();
  if (why) {
    console.error(`bench:scale needs PostgreSQL: ${why}`);
    process.exit(1);
  }
  const cores = availableParallelism();
  console.log(
    `bench:scale on ${cores} CPU cores (load average ${loadavg()[0]!.toFixed(1)} at the start), all processes on this one machine: flux-pro generations at 256×256 ` +
      `(${JOBS} per phase on flux-mini at ${STEPS} steps, ${DOUBLE_JOBS} on the double), each worker claims up to 2 generations at once; get_result polled at ${RATE}/s`,
  );
  const [pgServer, s3] = await Promise.all([startTestPostgres(), startTestS3('fluxtune-bench')]);
  const results: PhaseResult[] = [];
  try {
    for (const w of WORKLOADS.filter((w) => !ONLY || w.name === ONLY)) {
      for (const n of [1, 2]) {
        const r = await phase(pgServer, s3, w, n);
        results.push(r);
        console.log(
          `${w.name.padEnd(9)} ${n} worker${n > 1 ? 's' : ' '}: ${r.jobsPerMinute.toFixed(1).padStart(6)} jobs/min (${r.jobs} in ${r.seconds.toFixed(1)} s, per worker ${r.jobsPerWorker.join('/')}); ` +
            `claim latency idle p50 ${r.claimLatencyMs.p50.toFixed(0)} ms max ${r.claimLatencyMs.max.toFixed(0)} ms, claim query p50 ${r.claimQueryMs.p50.toFixed(1)} p99 ${r.claimQueryMs.p99.toFixed(1)} ms; ` +
            `get_result p50 ${r.getResult.p50.toFixed(2)} p90 ${r.getResult.p90.toFixed(2)} p99 ${r.getResult.p99.toFixed(2)} ms (${r.getResult.requests} requests, ${r.getResult.errors} errors)`,
        );
      }
    }
  } finally {
    await s3.stop();
    await pgServer.stop();
  }
  const ratios: Record<string, number> = {};
  for (const w of WORKLOADS) {
    const one = results.find((r) => r.workload === w.name && r.workers === 1);
    const two = results.find((r) => r.workload === w.name && r.workers === 2);
    if (!one || !two) continue;
    ratios[w.name] = two.jobsPerMinute / one.jobsPerMinute;
    console.log(
      `${w.name}: 2 workers / 1 worker = ${ratios[w.name]!.toFixed(2)}x` +
        (w.name === 'flux-mini'
          ? ` (CPU-bound: both workers share this machine's ${cores} cores; one worker per machine or GPU is where the second one adds)`
          : ' (no CPU used: what the queue and the blob store allow)'),
    );
  }
  console.log(`load average at the end ${loadavg()[0]!.toFixed(1)} (other work on this machine shows in every figure)`);
  if (JSON_OUT) console.log(`bench-scale ${JSON.stringify({ cores, jobs: JOBS, doubleJobs: DOUBLE_JOBS, steps: STEPS, rate: RATE, results, ratios })}`);
}

await main();
