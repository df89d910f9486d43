// npm run bench:api — get_result latency at a fixed request rate while a finetune trains.
// Target (DESIGN.md §6): p99 < 10 ms at 1,000 req/s on loopback.
//
// The server runs as a child process (`fluxtune serve`, the real composition: HTTP on the main thread,
// the model in a worker thread); this process only generates load, open-loop: latency is measured
// from each request's scheduled time, so a stalled server cannot hide behind fewer requests.
//
// Options: --rate 1000 --seconds 10 --backend <module#export> (default: the shipped model)
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
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
    const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 120 } } }).png().toBuffer();
    zip.addBuffer(png, `img${i}.png`);
    zip.addBuffer(Buffer.from(`TOK number ${i} on a coloured background`), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('base64');
}

async function startServer(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const env = { ...process.env, FLUXTUNE_DATA_DIR: dataDir, FLUXTUNE_API_KEY: KEY, PORT: '0', ...(BACKEND ? { FLUXTUNE_BACKEND_MODULE: BACKEND } : {}) };
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../src/client/cli.ts', import.meta.url).pathname, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
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

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fluxtune-bench-'));
  const server = await startServer(dataDir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const sub = await request(agent, `${server.url}/v1/finetune`, 'POST', JSON.stringify({ file_data: await datasetZip(), finetune_comment: 'bench', mode: 'general', iterations: 1000 }));
    if (sub.status !== 200) throw new Error(`submit failed: ${sub.status} ${sub.text}`);
    const id = JSON.parse(sub.text).finetune_id as string;
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
    // Warm-up.
    await Promise.all(Array.from({ length: 200 }, () => request(agent, pollUrl, 'GET')));

    const total = RATE * SECONDS;
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now() + 20;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((ok) => setTimeout(ok, wait));
      inflight.push(
        request(agent, pollUrl, 'GET').then(
          (r) => {
            if (r.status !== 200) errors++;
            latencies.push(performance.now() - due);
          },
          () => void errors++,
        ),
      );
    }
    await Promise.all(inflight);
    const elapsed = (performance.now() - start) / 1000;
    const last = JSON.parse((await request(agent, pollUrl, 'GET')).text);
    latencies.sort((a, b) => a - b);
    const p99 = percentile(latencies, 99);
    console.log(`get_result while training (finetune progress now ${(last.progress * 100).toFixed(1)}%)`);
    console.log(`  offered ${RATE} req/s for ${SECONDS} s; achieved ${(latencies.length / elapsed).toFixed(0)} req/s; errors ${errors}`);
    console.log(
      `  latency ms: p50 ${percentile(latencies, 50).toFixed(2)}  p90 ${percentile(latencies, 90).toFixed(2)}  p99 ${p99.toFixed(2)}  max ${latencies.at(-1)!.toFixed(2)}`,
    );
    console.log(`  target p99 < 10 ms: ${p99 < 10 ? 'MET' : 'NOT MET'} (p99 / target = ${(p99 / 10).toFixed(2)})`);
    await request(agent, `${server.url}/v1/delete_finetune`, 'POST', JSON.stringify({ finetune_id: id }));
  } finally {
    agent.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
