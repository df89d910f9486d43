// npm run bench:adamw -- [--params 4000000] [--json]
// The issue asked for AdamW "over Float32Arrays or as a graph — whichever measures faster": this
// measures both on the same parameter count. The graph version pays for shipping p, g, m, v into
// ONNX Runtime and p, m, v back out on every step.

import { AdamW } from '../src/engine/adamw.ts';
import { Graph } from '../src/engine/graph.ts';
import * as F from '../src/engine/ops.ts';
import { Rng } from '../src/engine/rng.ts';
import { Session } from '../src/engine/session.ts';
import { parseArgs, timeIt } from './lib/timing.ts';

const args = parseArgs(process.argv.slice(2));
const n = Number(args.params ?? 4_000_000);
const rng = new Rng(0);
const p = rng.fillNormal(new Float32Array(n));
const grad = rng.fillNormal(new Float32Array(n), 0.01);

const opt = new AdamW(new Map([['w', p]]), { lr: 1e-4, maxGradNorm: 1 });
const tsSeconds = await timeIt(async () => opt.step({ w: grad }));

// The same update as one ONNX graph (bias corrections folded into fed scalars).
const g = new Graph();
const [pw, gw, m, v] = ['p', 'g', 'm', 'v'].map((name) => g.input(name, [n]));
const stepSize = g.input('step_size', []);
const decay = g.input('decay', []);
const bc2 = g.input('bc2', []);
const m2 = F.add(F.mul(m!, 0.9), F.mul(gw!, 0.1));
const v2 = F.add(F.mul(v!, 0.999), F.mul(F.square(gw!), 0.001));
const upd = F.div(F.mul(m2, stepSize), F.add(F.sqrt(F.div(v2, bc2)), 1e-8));
const p2 = F.sub(F.mul(pw!, decay), upd);
const session = await Session.create({ outputs: { p2, m2, v2 } });
const mm = new Float32Array(n);
const vv = new Float32Array(n);
const graphSeconds = await timeIt(async () => {
  const out = await session.run({ p, g: grad, m: mm, v: vv, step_size: Float32Array.of(1e-4), decay: Float32Array.of(1 - 1e-6), bc2: Float32Array.of(0.5) });
  p.set(out.p2 as Float32Array);
  mm.set(out.m2 as Float32Array);
  vv.set(out.v2 as Float32Array);
});

const result = {
  bench: 'adamw',
  params: n,
  typescript_s: +tsSeconds.toFixed(4),
  onnx_graph_s: +graphSeconds.toFixed(4),
  graph_over_ts: +(graphSeconds / tsSeconds).toFixed(2),
};
console.log(args.json ? JSON.stringify(result) : result);
