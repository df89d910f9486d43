// npm run bench:api — get_result latency at a fixed request rate, on loopback:
//   1. peer: an API-only server (`serve --no-worker`) answering get_result for a queued finetune, nothing else going on;
//   2. the same peer while four ~130 MB finetune uploads arrive (two keys, two each: the per-key bound), sent
//      by another process at nice 10 (it stands for remote clients; on loopback their sending is kernel work
//      on the same cores);
//   3. a full server (`fluxtune serve`: HTTP on the main thread, the model in a worker thread) while the finetune trains.
// Target (DESIGN.md §6): p99 < 10 ms at 1,000 req/s, in 2 and 3 as in 1.
//
// The servers run as child processes; this process only generates load, open-loop: latency is measured
// from each request's scheduled time, so a stalled server cannot hide behind fewer requests.
// The peer measured first is what the machine itself allows (other processes included): when its p99
// is high, the run was disturbed.
//
// Each server is started with bench/loop-probe.mjs preloaded, which reports from inside its HTTP thread
// every 250 ms: the longest event-loop delay, GC pauses, PGlite's synchronous statement time, and the
// thread's CPU and run-queue wait; each phase prints their sum, so a slow p99 says what held the thread
// (and this process's own loop delay, so a stall of the load generator is not mistaken for the
// server's). BENCH_DEBUG=1 prints every window.
//
// Options: --rate 1000 --seconds 10 --warmup 2 --upload-mb 130 --uploads 4 --upload-seconds 14 --skip-training
// --backend <module#export> (default: the shipped flux-mini, the real model)
// --json: also one last line `bench-api {…}`, each phase's figures (latency percentiles, the probe's sums).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import yazl from 'yazl';
import { startFluxtuneServer } from './lib/fluxtune-server.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const RATE = Number(arg('rate', '1000'));
const SECONDS = Number(arg('seconds', '10'));
const UPLOAD_MB = Number(arg('upload-mb', '130'));
const UPLOADS = Number(arg('uploads', '4'));
const UPLOAD_SECONDS = Number(arg('upload-seconds', '14'));
const WARMUP = Number(arg('warmup', '2'));
const BACKEND = arg('backend', '');
const SKIP_TRAINING = process.argv.includes('--skip-training');
const JSON_OUT = process.argv.includes('--json');
const KEY = 'ft_bench_key_0123456789';
const CLI = new URL('../src/main/cli.ts', import.meta.url).pathname;
const PROBE = new URL('./loop-probe.mjs', import.meta.url).pathname;

async function zipOf(entries: [string, Buffer, boolean][]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data, compress] of entries) zip.addBuffer(data, name, { compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

async function datasetEntries(): Promise<[string, Buffer, boolean][]> {
  const entries: [string, Buffer, boolean][] = [];
  for (let i = 0; i < 6; i++) {
    const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 120 } } })
      .png()
      .toBuffer();
    entries.push([`img${i}.png`, png, true], [`img${i}.txt`, Buffer.from(`TOK number ${i} on a coloured background`), true]);
  }
  return entries;
}

/** The bench's dataset plus a stored file of random bytes (read past, not decoded), so the body's base64 is about `mb` MB. */
async function largeUploadBody(mb: number): Promise<Buffer> {
  const base = await datasetEntries();
  const fillerBytes = Math.floor((mb * 1e6 * 3) / 4) - 40_000;
  const zip = await zipOf([...base, ['filler.bin', randomBytes(fillerBytes), false]]);
  return Buffer.concat([
    Buffer.from('{"file_data":"'),
    Buffer.from(zip.toString('base64'), 'latin1'),
    Buffer.from('","finetune_comment":"bench-large","mode":"general","iterations":100}'),
  ]);
}

interface Probe {
  t: number;
  delayMax: number;
  delayP99: number;
  rssMb: number;
  gc: [string, number][];
  pg: { n: number; totalMs: number; maxMs: number };
  cpuMs: number;
  waitMs: number;
}

interface Server {
  url: string;
  probes: Probe[];
  log(): string;
  stop(): Promise<void>;
}

async function run(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`fluxtune ${args.join(' ')} exited with ${code}:\n${err}`);
  return out;
}

async function startServer(dataDir: string, args: string[] = []): Promise<Server> {
  const probes: Probe[] = [];
  const server = await startFluxtuneServer({
    dataDir,
    apiKey: KEY,
    args,
    imports: [PROBE],
    env: BACKEND ? { FLUXTUNE_BACKEND_MODULE: BACKEND } : {},
    onLine: (line) => {
      if (!line.startsWith('loop-probe ')) return false;
      probes.push(JSON.parse(line.slice('loop-probe '.length)) as Probe);
      return true;
    },
  });
  return { ...server, probes };
}

function request(agent: http.Agent, url: string, method: string, body?: string | Buffer, key = KEY): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'x-key': key, 'content-type': 'application/json' };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const req = http.request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (typeof body === 'string' || body === undefined) {
      req.end(body);
      return;
    }
    // A large body goes out in 1 MB writes with backpressure: what a client's socket does, at no cost to this process's loop.
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const end = Math.min(body.length, at + (1 << 20));
        const more = req.write(body.subarray(at, end));
        at = end;
        if (!more) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Measured {
  offered: number;
  achieved: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Wall-clock window of the measurement (for the probes). */
  from: number;
  to: number;
  /** This process's own longest event-loop delay (ms): a stalled load generator would inflate the server's figures. */
  ownDelayMax: number;
  /** [scheduled wall-clock time, latency] of every request. */
  samples: [number, number][];
  /** p99 of the warm-up before it (not counted). */
  warmupP99?: number;
}

function summarize(latencies: number[]): Pick<Measured, 'p50' | 'p90' | 'p99' | 'max'> {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/**
 * Open loop at RATE for `seconds` after a warm-up (WARMUP seconds at RATE, not counted: a server started
 * for the phase runs its request path unoptimised for its first second or two, at twice the CPU, which
 * is start-up, not the phase; its p99 is printed all the same); latency from each request's scheduled
 * time (or its send, if earlier). `during` runs alongside the measured part.
 */
async function measure(agent: http.Agent, url: string, during?: () => Promise<void>, seconds = SECONDS): Promise<Measured> {
  await Promise.all(Array.from({ length: 200 }, () => request(agent, url, 'GET')));
  const warm = WARMUP > 0 ? await openLoop(agent, url, WARMUP) : undefined;
  const m = await openLoop(agent, url, seconds, during);
  return { ...m, warmupP99: warm?.p99 };
}

async function openLoop(agent: http.Agent, url: string, seconds: number, during?: () => Promise<void>): Promise<Measured> {
  const total = RATE * seconds;
  const samples: [number, number][] = [];
  let errors = 0;
  const own = monitorEventLoopDelay({ resolution: 1 });
  own.enable();
  const start = performance.now() + 20;
  const wallStart = performance.timeOrigin + start;
  const inflight: Promise<void>[] = [];
  const alongside = during?.();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((ok) => setTimeout(ok, wait));
    // From the scheduled time when sent late (a stall is charged to the server), from the send when a
    // timer fired early (never a negative latency).
    const from = Math.min(due, performance.now());
    inflight.push(
      request(agent, url, 'GET').then(
        (r) => {
          if (r.status !== 200) errors++;
          samples.push([performance.timeOrigin + due, performance.now() - from]);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  own.disable();
  const end = performance.now();
  await alongside;
  return {
    offered: RATE,
    achieved: samples.length / ((end - start) / 1000),
    errors,
    ...summarize(samples.map(([, ms]) => ms)),
    from: wallStart,
    to: performance.timeOrigin + end,
    ownDelayMax: own.max / 1e6,
    samples,
  };
}

/** A phase's figures for --json: its latency and what the probe saw on the server's HTTP thread meanwhile. */
function phaseJson(m: Measured, probes: Probe[]) {
  const inside = probes.filter((p) => p.t >= m.from && p.t <= m.to + 250);
  const gcs = inside.flatMap((p) => p.gc);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    achieved: Math.round(m.achieved),
    errors: m.errors,
    p50: round(m.p50),
    p90: round(m.p90),
    p99: round(m.p99),
    max: round(m.max),
    warmupP99: m.warmupP99 === undefined ? null : round(m.warmupP99),
    server: {
      delayMax: Math.max(0, ...inside.map((p) => p.delayMax)),
      windowsOver10ms: inside.filter((p) => p.delayMax > 10).length,
      windows: inside.length,
      gcMs: round(gcs.reduce((a, [, ms]) => a + ms, 0)),
      gcMaxMs: Math.max(0, ...gcs.map(([, ms]) => ms)),
      pgStatements: inside.reduce((a, p) => a + p.pg.n, 0),
      pgMs: round(inside.reduce((a, p) => a + p.pg.totalMs, 0)),
      pgMaxMs: Math.max(0, ...inside.map((p) => p.pg.maxMs)),
      cpuMs: inside.reduce((a, p) => a + p.cpuMs, 0),
      waitMs: inside.reduce((a, p) => a + p.waitMs, 0),
    },
    ownDelayMax: round(m.ownDelayMax),
  };
}

function report(m: Measured, probes: Probe[]): void {
  console.log(`  offered ${m.offered} req/s for ${((m.to - m.from) / 1000).toFixed(0)} s; achieved ${m.achieved.toFixed(0)} req/s; errors ${m.errors}`);
  console.log(
    `  latency ms: p50 ${m.p50.toFixed(2)}  p90 ${m.p90.toFixed(2)}  p99 ${m.p99.toFixed(2)}  max ${m.max.toFixed(2)}` +
      (m.warmupP99 === undefined ? '' : `  (the ${WARMUP} s warm-up before it, not counted: p99 ${m.warmupP99.toFixed(2)})`),
  );
  const inside = probes.filter((p) => p.t >= m.from && p.t <= m.to + 250);
  const gcs = inside.flatMap((p) => p.gc);
  const longGc = gcs.filter(([, ms]) => ms >= 5);
  const pg = inside.reduce((a, p) => ({ n: a.n + p.pg.n, totalMs: a.totalMs + p.pg.totalMs, maxMs: Math.max(a.maxMs, p.pg.maxMs) }), {
    n: 0,
    totalMs: 0,
    maxMs: 0,
  });
  const windows = (limit: number) => inside.filter((p) => p.delayMax > limit).length;
  console.log(
    `  server's HTTP thread: longest event-loop delay ${Math.max(0, ...inside.map((p) => p.delayMax)).toFixed(1)} ms` +
      ` (${windows(10)} of ${inside.length} 250-ms windows over 10 ms); peak RSS ${Math.max(0, ...inside.map((p) => p.rssMb))} MB`,
  );
  console.log(
    `    GC: ${gcs.length} pauses ≥ 1 ms, ${gcs.reduce((a, [, ms]) => a + ms, 0).toFixed(0)} ms in all, ${longGc.length} ≥ 5 ms` +
      ` (longest ${Math.max(0, ...gcs.map(([, ms]) => ms)).toFixed(1)} ms${longGc.length ? `: ${[...new Set(longGc.map(([k]) => k))].join(', ')}` : ''})`,
  );
  console.log(`    PGlite on this thread: ${pg.n} statements, ${pg.totalMs.toFixed(0)} ms in all, longest ${pg.maxMs.toFixed(1)} ms`);
  console.log(`  load generator's own longest event-loop delay: ${m.ownDelayMax.toFixed(1)} ms`);
}

/** BENCH_DEBUG=1: every 250-ms window of the probe during a measurement, from `origin`. */
function debugWindows(m: Measured, probes: Probe[], origin: number): void {
  if (!process.env.BENCH_DEBUG) return;
  for (const p of probes.filter((p) => p.t >= m.from && p.t <= m.to)) {
    console.log(
      `    +${((p.t - origin) / 1000).toFixed(2)} s delay ${p.delayMax} p99 ${p.delayP99} rss ${p.rssMb} gc ${JSON.stringify(p.gc)} pg ${JSON.stringify(p.pg)} cpu ${p.cpuMs} wait ${p.waitMs}`,
    );
  }
}

function verdict(m: Measured, peer: Measured): void {
  console.log(`  target p99 < 10 ms: ${m.p99 < 10 ? 'MET' : 'NOT MET'} (p99 / target = ${(m.p99 / 10).toFixed(2)})`);
  console.log(`  vs the peer: p50 ${(m.p50 / peer.p50).toFixed(2)}x, p99 ${(m.p99 / peer.p99).toFixed(2)}x`);
}

/**
 * `--upload-client <url> <key,key,…>`: the uploads run in a process of their own, so that sending them
 * (hundreds of MB through loopback: a core's worth of kernel copies) does not stall this load generator,
 * whose stalls would be charged to the server. It builds the body, says "ready", waits for a line on
 * stdin, sends, and prints one JSON line per upload.
 */
async function uploadClient(url: string, keys: string[]): Promise<void> {
  const body = await largeUploadBody(UPLOAD_MB);
  process.stdout.write(`ready ${body.length}\n`);
  await new Promise((ok) => process.stdin.once('data', ok));
  const agent = new http.Agent({ keepAlive: false });
  await Promise.all(
    Array.from({ length: UPLOADS }, async (_, i) => {
      const t0 = performance.now();
      const r = await request(agent, `${url}/v1/finetune`, 'POST', body, keys[i % keys.length]);
      process.stdout.write(`${JSON.stringify({ status: r.status, ms: performance.now() - t0, text: r.text.slice(0, 300) })}\n`);
    }),
  );
  process.stdin.destroy();
}

interface UploadResult {
  status: number;
  ms: number;
  text: string;
}

/** Starts the upload client (it prepares its body meanwhile); `go()` sends, and resolves with the answers. */
async function startUploadClient(url: string, keys: string[]): Promise<{ bodyBytes: number; go(): Promise<UploadResult[]> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--upload-client',
      url,
      keys.join(','),
      '--upload-mb',
      String(UPLOAD_MB),
      '--uploads',
      String(UPLOADS),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  // It stands for a client elsewhere: on loopback its sending is kernel work on the same two cores, which
  // a remote client's would not be; at nice 10 it yields them to the server.
  try {
    setPriority(child.pid!, 10);
  } catch {}
  const lines: string[] = [];
  let pending = '';
  let onLine: (() => void) | undefined;
  child.stdout.on('data', (c: Buffer) => {
    pending += c.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
    onLine?.();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const waitFor = async (ok: () => boolean) => {
    while (!ok()) await Promise.race([new Promise<void>((r) => (onLine = r)), exited]);
  };
  await waitFor(() => lines.some((l) => l.startsWith('ready')) || child.exitCode !== null);
  const ready = lines.find((l) => l.startsWith('ready'));
  if (!ready) throw new Error('the upload client failed to start');
  return {
    bodyBytes: Number(ready.split(' ')[1]),
    async go() {
      child.stdin.write('go\n');
      await exited;
      return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as UploadResult);
    },
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fluxtune-bench-'));
  let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let server: Server | undefined;
  const summary: Record<string, unknown> = {};
  try {
    // A second key: two uploads at a time per key is the bound, and four uploads are measured.
    const second = JSON.parse(await run(['keys', 'create', '--name', 'bench-2', '--json'], { FLUXTUNE_DATA_DIR: dataDir })).key as string;

    // The peer: an API-only server (--no-worker) answering get_result for the same queued finetune.
    server = await startServer(dataDir, ['--no-worker']);
    const small = (await zipOf(await datasetEntries())).toString('base64');
    const sub = await request(
      agent,
      `${server.url}/v1/finetune`,
      'POST',
      JSON.stringify({ file_data: small, finetune_comment: 'bench', mode: 'general', iterations: 1000 }),
    );
    if (sub.status !== 200) throw new Error(`submit failed: ${sub.status} ${sub.text}\n${server.log()}`);
    const id = JSON.parse(sub.text).finetune_id as string;
    let pollUrl = `${server.url}/v1/get_result?id=${id}`;
    const idle = await measure(agent, pollUrl);
    console.log('peer: get_result, same finetune queued, nothing else going on (serve --no-worker)');
    report(idle, server.probes);
    summary.idle = phaseJson(idle, server.probes);

    // The same peer while large uploads arrive: two keys, as many at once as the bound allows each.
    const peerUrl = server.url;
    const client = await startUploadClient(peerUrl, [KEY, second]);
    let uploads: UploadResult[] = [];
    let uploadWindow = [0, 0];
    // Long enough for all of them (at the server's 64 MB/s, 4 x 130 MB take ~8 s to arrive, then the last is ingested).
    const during = await measure(
      agent,
      pollUrl,
      async () => {
        await new Promise((ok) => setTimeout(ok, 500));
        const t0 = performance.timeOrigin + performance.now();
        uploads = await client.go();
        uploadWindow = [t0, performance.timeOrigin + performance.now()];
      },
      UPLOAD_SECONDS,
    );
    if (uploadWindow[1]! > during.to) console.log(`  (the uploads outlasted the measurement by ${((uploadWindow[1]! - during.to) / 1000).toFixed(1)} s)`);
    const inWindow = summarize(during.samples.filter(([t]) => t >= uploadWindow[0]! && t <= uploadWindow[1]!).map(([, ms]) => ms));
    console.log(`peer while ${UPLOADS} uploads of ${(client.bodyBytes / 1e6).toFixed(0)} MB arrive (2 per key; sent by another process)`);
    console.log(
      `  uploads: ${uploads.map((u) => `${u.status} in ${(u.ms / 1000).toFixed(1)} s`).join(', ')}; from the first byte to the last answer ${((uploadWindow[1]! - uploadWindow[0]!) / 1000).toFixed(1)} s`,
    );
    for (const u of uploads) if (u.status !== 200) console.log(`  upload answered ${u.status}: ${u.text}`);
    report(during, server.probes);
    console.log(`  while the uploads were in flight only: p50 ${inWindow.p50.toFixed(2)}  p99 ${inWindow.p99.toFixed(2)}  max ${inWindow.max.toFixed(2)}`);
    verdict(during, idle);
    summary.uploads = {
      ...phaseJson(during, server.probes),
      inFlight: Object.fromEntries(Object.entries(inWindow).map(([k, v]) => [k, Math.round(v * 100) / 100])),
      answers: uploads.map((u) => u.status),
      seconds: Math.round(uploadWindow[1]! - uploadWindow[0]!) / 1000,
    };
    debugWindows(during, server.probes, uploadWindow[0]!);
    for (const u of uploads) {
      if (u.status === 200) await request(agent, `${peerUrl}/v1/delete_finetune`, 'POST', JSON.stringify({ finetune_id: JSON.parse(u.text).finetune_id }));
    }
    await server.stop();
    server = undefined;
    agent.destroy();
    if (SKIP_TRAINING) return;

    // The same data directory with the model: the job is claimed and trains while we poll.
    agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    server = await startServer(dataDir);
    pollUrl = `${server.url}/v1/get_result?id=${id}`;
    // Measure while training, not while waiting in the queue.
    const t0 = Date.now();
    for (;;) {
      const r = JSON.parse((await request(agent, pollUrl, 'GET')).text);
      if (r.status !== 'Pending') throw new Error(`finetune ended before the benchmark: ${JSON.stringify(r)}`);
      if ((r.progress ?? 0) > 0) break;
      if (Date.now() - t0 > 120_000) throw new Error('training did not start within 2 minutes');
      await new Promise((ok) => setTimeout(ok, 200));
    }
    const training = await measure(agent, pollUrl);
    const last = JSON.parse((await request(agent, pollUrl, 'GET')).text);
    console.log(`get_result while the finetune trains (model ${BACKEND || 'flux-mini, the shipped one'}; progress now ${(last.progress * 100).toFixed(1)}%)`);
    report(training, server.probes);
    verdict(training, idle);
    summary.training = { ...phaseJson(training, server.probes), progress: last.progress };
    debugWindows(training, server.probes, training.from);
    await request(agent, `${server.url}/v1/delete_finetune`, 'POST', JSON.stringify({ finetune_id: id }));
  } finally {
    agent.destroy();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    // Here, so that --skip-training (a return above) and a failed phase still print what was measured.
    if (JSON_OUT) console.log(`bench-api ${JSON.stringify(summary)}`);
  }
}

const clientAt = process.argv.indexOf('--upload-client');
if (clientAt > 0) await uploadClient(process.argv[clientAt + 1]!, process.argv[clientAt + 2]!.split(','));
else await main();
