// npm run bench:fusions -- [--config models/flux-mini/config.json]
// Which of ONNX Runtime's graph fusions fire on our emitted graphs: the op counts of the flux-mini
// forward (batch 4 × 288 tokens, weights frozen) and of its full training step as emitted and as
// ORT's ORT_ENABLE_ALL optimizer leaves them (its optimizedModelFilePath dump, read back).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { TypedArray } from '../src/engine/dtype.ts';
import { nodesFor, type Value } from '../src/engine/graph.ts';
import { emitModel } from '../src/engine/onnx.ts';
import { buildFluxGraph } from '../src/model/flux/build.ts';
import { buildFluxTrainingGraph } from '../src/model/flux/training.ts';
import { frozenWeights } from '../src/model/flux/weights.ts';
import { loadFluxParams, randomFluxWeights } from './lib/flux-setup.ts';
import { parseArgs } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const params = loadFluxParams(String(args.config ?? 'models/flux-mini/config.json'));
const shape = { batch: 4, imgTokens: 256, txtTokens: 32 };
const weights = randomFluxWeights(params);
const dir = mkdtempSync(join(tmpdir(), 'fluxtune-fusions-'));

function counts(ops: string[]): string {
  const m: Record<string, number> = {};
  for (const o of ops) m[o] = (m[o] ?? 0) + 1;
  return Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
}

async function dump(name: string, outputs: Record<string, Value>, frozen?: ReadonlyMap<Value, TypedArray>) {
  const path = join(dir, `${name}.onnx`);
  const session = await ort.InferenceSession.create(emitModel({ outputs, frozen }).bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: path });
  await session.release();
  const nodes = onnxProto.onnx.ModelProto.decode(readFileSync(path)).graph?.node ?? [];
  const emitted = nodesFor(Object.values(outputs)).map((n) => (n.domain ? `${n.domain}.${n.op}` : n.op));
  console.log(`${name} emitted (${emitted.length} nodes): ${counts(emitted)}`);
  console.log(`${name} optimized (${nodes.length} nodes): ${counts(nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType!)))}`);
}

try {
  const fg = buildFluxGraph(params, shape);
  await dump('forward', { out: fg.out }, frozenWeights(fg.store.params, weights));
  await dump('train_step', buildFluxTrainingGraph(params, shape).outputs);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
