// npm run bench:ready -- [--concept 0] [--type full|lora] [--iterations 300] [--skip-peer] [--json]
// Issue 10's "the default finetune stays within 3 minutes from submit to Ready on 2 idle cores": a real
// server (`fluxtune serve`, fresh data directory, in-process worker, the shipped flux-mini) gets a novel
// concept's 8 photos as a user uploads them (JPEGs in a ZIP, 3 with a .txt caption) with only the
// required fields, so every hyper-parameter is the API default (full, 300 iterations, quality, rank 32).
// It polls get_result and prints the wall time from submit to Ready and how long each phase the task
// reported lasted (queued, captioning, training, extracting, saving).
// Peer, same run: FluxMiniBackend.train in this process on the same photos and captions (the bare
// training the service wraps): service / bare shows what captioning, previews, checkpoints and storage add.
// Target: submit_to_ready_s ≤ 180 on 2 idle cores; the 1-minute load is printed, and a loaded machine says so.

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import { DEFAULT_LEARNING_RATE } from '../src/api/finetune-schemas.ts';
import { FluxtuneClient } from '../src/client/client.ts';
import { NOVEL_CONCEPTS } from '../src/model/eval/novel-concepts.ts';
import { novelDataset } from '../src/model/eval/novel-dataset.ts';
import { FluxMiniBackend } from '../src/model/flux-mini/backend.ts';
import { startFluxtuneServer } from './lib/fluxtune-server.ts';
import { parseArgs } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const conceptIndex = Number(args.concept ?? 0);
const concept = NOVEL_CONCEPTS[conceptIndex]!;
const KEY = 'ft_bench_ready_0123456789';
const TARGET_S = 180;
const r1 = (x: number) => +x.toFixed(1);

const data = await novelDataset(concept, conceptIndex);
const zip = new yazl.ZipFile();
for (const [i, e] of data.entries()) {
  const jpeg = await sharp(e.image.data, { raw: { width: e.image.width, height: e.image.height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  zip.addBuffer(jpeg, `photo${i}.jpg`);
  if (e.userCaption) zip.addBuffer(Buffer.from(e.userCaption), `photo${i}.txt`);
}
zip.end();
const chunks: Buffer[] = [];
for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
const zipBytes = new Uint8Array(Buffer.concat(chunks));

const loadStart = loadavg()[0]!;
const dataDir = mkdtempSync(join(tmpdir(), 'fluxtune-bench-ready-'));
const server = await startFluxtuneServer({ dataDir, apiKey: KEY });
let service: { submit_to_ready_s: number; phases_s: Record<string, number>; captions: unknown };
try {
  const client = new FluxtuneClient({ baseUrl: server.url, apiKey: KEY });
  const params: Record<string, unknown> = { finetune_comment: `bench-ready ${concept.name}`, mode: 'product' };
  if (args.type) params.finetune_type = args.type;
  if (args.iterations) params.iterations = Number(args.iterations);
  const t0 = performance.now();
  const { finetune_id } = await client.requestFinetuning(zipBytes, params as never);
  const phases: Record<string, number> = {};
  let phase = 'queued';
  let since = t0;
  for (;;) {
    const r = await client.getResult(finetune_id);
    const now = performance.now();
    const next = r.status === 'Pending' ? ((r as { phase?: string }).phase ?? 'queued') : r.status;
    if (next !== phase) {
      phases[phase] = r1((phases[phase] ?? 0) + (now - since) / 1000);
      if (!args.json) process.stderr.write(`${((now - t0) / 1000).toFixed(1)} s: ${next} (progress ${r.progress ?? '-'})\n`);
      phase = next;
      since = now;
    }
    if (r.status === 'Ready') break;
    if (r.status !== 'Pending') throw new Error(`finetune ${finetune_id} ended ${r.status}: ${JSON.stringify(r.details)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  const details = await client.finetuneDetails(finetune_id);
  service = {
    submit_to_ready_s: r1((performance.now() - t0) / 1000),
    phases_s: phases,
    captions: (details as { captions?: unknown }).captions ?? null,
  };
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

let peer: { train_s: number } | null = null;
if (!args['skip-peer']) {
  // The same photos, captioned as the user did and the trigger word alone elsewhere (what the service's
  // captioner wrote for these concepts: it names none of them), through the bare backend.
  const backend = await FluxMiniBackend.load();
  const t0 = performance.now();
  await backend.train({
    examples: data.map((e) => ({ image: e.image, caption: e.userCaption ?? 'TOK' })),
    iterations: Number(args.iterations ?? 300),
    learningRate: DEFAULT_LEARNING_RATE[(args.type ?? 'full') as 'full' | 'lora'],
    priority: 'quality',
    finetuneType: (args.type ?? 'full') as 'full' | 'lora',
    loraRank: 32,
    seed: 1,
  });
  peer = { train_s: r1((performance.now() - t0) / 1000) };
}

const loadEnd = loadavg()[0]!;
const result = {
  bench: 'ready',
  concept: concept.name,
  settings: { finetune_type: args.type ?? 'full (default)', iterations: Number(args.iterations ?? 300), priority: 'quality (default)', images: data.length },
  ...service,
  peer_backend_train_s: peer?.train_s ?? null,
  service_over_backend: peer ? +(service.submit_to_ready_s / peer.train_s).toFixed(2) : null,
  target_s: TARGET_S,
  meets_target: service.submit_to_ready_s <= TARGET_S,
  load_1m: [r1(loadStart), r1(loadEnd)],
  note: loadStart > 2.5 || loadEnd > 2.5 ? 'the machine was loaded (1-minute load above 2.5 on 2 cores): not an idle-machine figure' : undefined,
};
console.log(JSON.stringify(result, null, args.json ? undefined : 2));
