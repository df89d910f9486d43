// npm run bench:api — get_result latency at a fixed request rate while a finetune trains.
// Target (DESIGN.md §6): p99 < 10 ms at 1,000 req/s on loopback.
//
// The server runs as a child process (`fluxtune serve`, the real composition: HTTP on the main thread,
// the model in a worker thread); this process only generates load, open-loop: latency is measured
// from each request's scheduled time, so a stalled server cannot hide behind fewer requests.
//
// The peer, measured first in the same run: an API-only server (`serve --no-worker`) on the same data
// answering get_result for the same queued finetune, under the same load, with nothing training: what
// the machine itself allows (other processes included), apart from the finetune's share.
//
// Options: --rate 1000 --seconds 10 --backend <module#export> (default: the shipped flux-mini, the real model)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const RATE = Number(arg('rate', '1000'));
const SECONDS = Number(arg('seconds', '10'));
const BACKEND = arg('backend', '');
const KEY = 'ft_bench_key_0123456789';

async function datasetZip(): Promise<string> {
  const zip = new yazl.ZipFile();
  for (let i = 0; i < 6; i++) {
    const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 120 } } })
      .png()
      .toBuffer();
    zip.addBuffer(png, `img${i}.png`);
    zip.addBuffer(Buffer.from(`TOK number ${i} on a coloured background`), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('base64');
}

async function startServer(dataDir: string, args: string[] = []): Promise<{ url: string; stop(): Promise<void> }> {
  const env = { ...process.env, FLUXTUNE_DATA_DIR: dataDir, FLUXTUNE_API_KEY: KEY, PORT: '0', ...(BACKEND ? { FLUXTUNE_BACKEND_MODULE: BACKEND } : {}) };
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../src/main/cli.ts', import.meta.url).pathname, 'serve', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function request(agent: http.Agent, url: string, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { 'x-key': KEY, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Measured {
  offered: number;
  achieved: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Open loop at RATE for SECONDS after a warm-up; latency from each request's scheduled time (or its send, if earlier). */
async function measure(agent: http.Agent, url: string): Promise<Measured> {
  await Promise.all(Array.from({ length: 200 }, () => request(agent, url, 'GET')));
  const total = RATE * SECONDS;
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 20;
  const inflight: Promise<void>[] = [];
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
          latencies.push(performance.now() - from);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    offered: RATE,
    achieved: latencies.length / elapsed,
    errors,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.at(-1)!,
  };
}

function report(m: Measured): void {
  console.log(`  offered ${m.offered} req/s for ${SECONDS} s; achieved ${m.achieved.toFixed(0)} req/s; errors ${m.errors}`);
  console.log(`  latency ms: p50 ${m.p50.toFixed(2)}  p90 ${m.p90.toFixed(2)}  p99 ${m.p99.toFixed(2)}  max ${m.max.toFixed(2)}`);
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fluxtune-bench-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    // The peer: an API-only server (--no-worker) answering get_result for the same queued finetune.
    server = await startServer(dataDir, ['--no-worker']);
    const sub = await request(
      agent,
      `${server.url}/v1/finetune`,
      'POST',
      JSON.stringify({ file_data: await datasetZip(), finetune_comment: 'bench', mode: 'general', iterations: 1000 }),
    );
    if (sub.status !== 200) throw new Error(`submit failed: ${sub.status} ${sub.text}`);
    const id = JSON.parse(sub.text).finetune_id as string;
    const idle = await measure(agent, `${server.url}/v1/get_result?id=${id}`);
    console.log('peer: get_result, same finetune queued, nothing training (serve --no-worker)');
    report(idle);
    await server.stop();
    agent.destroy();

    // The same data directory with the model: the job is claimed and trains while we poll.
    server = await startServer(dataDir);
    const pollUrl = `${server.url}/v1/get_result?id=${id}`;
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
    report(training);
    console.log(`  target p99 < 10 ms: ${training.p99 < 10 ? 'MET' : 'NOT MET'} (p99 / target = ${(training.p99 / 10).toFixed(2)})`);
    console.log(`  vs the peer: p50 ${(training.p50 / idle.p50).toFixed(2)}x, p99 ${(training.p99 / idle.p99).toFixed(2)}x`);
    await request(agent, `${server.url}/v1/delete_finetune`, 'POST', JSON.stringify({ finetune_id: id }));
  } finally {
    agent.destroy();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
