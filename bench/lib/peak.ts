// The matmul peak that every MFU figure is quoted against, measured in the same process as the
// workload. One size is not enough: ONNX Runtime's MLAS kernels run some shapes faster than others,
// prepack a frozen (initializer) B and so beat a fed one, and on a shared machine the load changes
// from one second to the next. So the peak is the best GFLOP/s over
//   - the model's own largest GEMMs (taken from the emitted graph, with their transposes),
//     each with B fed and with B frozen (prepacked), plus a square 1024 product;
//   - several timed repeats after warm-up;
//   - samples taken before and after the workload (`sample()` as often as the bench likes),
// and its spread is reported with it. An MFU above 1 is never printed without a note saying why.

import { loadavg } from 'node:os';
import { Graph, nodesFor, type Value } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';

export interface GemmShape {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

/** The distinct 2-D products of a graph (Gemm, or MatMul of x[..., K] by a 2-D B), largest total FLOPs first. */
export function modelGemms(outputs: readonly Value[], top = 3): GemmShape[] {
  const byKey = new Map<string, { shape: GemmShape; flops: number }>();
  for (const node of nodesFor(outputs)) {
    const [a, b] = node.inputs;
    if (!a || !b || b.rank !== 2) continue;
    let shape: GemmShape;
    if (node.op === 'Gemm') {
      const transA = Boolean(node.attrs.transA);
      const transB = Boolean(node.attrs.transB);
      shape = { m: transA ? a.shape[1]! : a.shape[0]!, k: transA ? a.shape[0]! : a.shape[1]!, n: transB ? b.shape[0]! : b.shape[1]!, transA, transB };
    } else if (node.op === 'MatMul') {
      const k = a.shape[a.rank - 1]!;
      shape = { m: a.size / k, k, n: b.shape[1]!, transA: false, transB: false };
    } else continue;
    const key = `${shape.m}x${shape.k}x${shape.n}/${shape.transA}/${shape.transB}`;
    const entry = byKey.get(key) ?? { shape, flops: 0 };
    entry.flops += 2 * shape.m * shape.k * shape.n;
    byKey.set(key, entry);
  }
  return [...byKey.values()]
    .sort((x, y) => y.flops - x.flops)
    .slice(0, top)
    .map((e) => e.shape);
}

const label = (s: GemmShape, frozen: boolean) => `${s.m}x${s.k}${s.transA ? 'ᵀ' : ''}·${s.k}x${s.n}${s.transB ? 'ᵀ' : ''}${frozen ? ' prepacked' : ''}`;

interface Probe {
  label: string;
  flops: number;
  session: Session;
  feeds: Record<string, Float32Array>;
  /** Every timed repeat's GFLOP/s, over all samples. */
  gflops: number[];
}

export interface PeakSummary {
  /** The best GFLOP/s of any product in any sample: the MFU denominator. */
  gflops: number;
  best_shape: string;
  /** Each sample's best (taken before / after the workload): their spread is the machine's noise. */
  samples_gflops: number[];
  /** (max − min) / max over the samples' bests. */
  spread: number;
  /** Best and median GFLOP/s of each product over all repeats. */
  shapes: Record<string, { best: number; median: number }>;
  /** 1-minute load average at each sample (the machine is shared). */
  load_1m: number[];
}

export class MatmulPeak {
  private readonly samples: number[] = [];
  private readonly loads: number[] = [];

  private constructor(
    private readonly probes: Probe[],
    private readonly reps: number,
    private readonly warmup: number,
  ) {}

  /** Sessions for the model's largest GEMMs (both B kinds) and a square 1024 product; nothing is timed yet. */
  static async create(
    shapes: readonly GemmShape[],
    { threads, reps = 8, warmup = 2 }: { threads?: number; reps?: number; warmup?: number } = {},
  ): Promise<MatmulPeak> {
    const all = [...shapes, { m: 1024, k: 1024, n: 1024, transA: false, transB: false }];
    const rng = new Rng(0);
    const probes: Probe[] = [];
    for (const s of all)
      for (const frozen of [false, true]) {
        const g = new Graph();
        const a = g.input('a', s.transA ? [s.k, s.m] : [s.m, s.k]);
        const b = g.input('b', s.transB ? [s.n, s.k] : [s.k, s.n]);
        const c = F.gemm(a, b, undefined, { transA: s.transA, transB: s.transB });
        const aData = rng.fillNormal(new Float32Array(a.size));
        const bData = rng.fillNormal(new Float32Array(b.size));
        const session = await Session.create({ outputs: { c }, threads, frozen: frozen ? new Map([[b, bData]]) : undefined });
        probes.push({ label: label(s, frozen), flops: 2 * s.m * s.k * s.n, session, feeds: frozen ? { a: aData } : { a: aData, b: bData }, gflops: [] });
      }
    return new MatmulPeak(probes, reps, warmup);
  }

  /** Times every product once more (warm-up, then `reps` repeats); returns this sample's best GFLOP/s. */
  async sample(): Promise<number> {
    this.loads.push(loadavg()[0]!);
    let best = 0;
    for (const p of this.probes) {
      for (let i = 0; i < this.warmup; i++) await p.session.run(p.feeds);
      for (let i = 0; i < this.reps; i++) {
        const t0 = performance.now();
        await p.session.run(p.feeds);
        const g = p.flops / ((performance.now() - t0) / 1000) / 1e9;
        p.gflops.push(g);
        best = Math.max(best, g);
      }
    }
    this.samples.push(best);
    return best;
  }

  summary(): PeakSummary {
    if (!this.samples.length) throw new Error('MatmulPeak: no sample taken');
    const shapes: PeakSummary['shapes'] = {};
    let best = { gflops: 0, label: '' };
    for (const p of this.probes) {
      const sorted = [...p.gflops].sort((a, b) => a - b);
      const top = sorted[sorted.length - 1]!;
      shapes[p.label] = { best: round1(top), median: round1(sorted[Math.floor(sorted.length / 2)]!) };
      if (top > best.gflops) best = { gflops: top, label: p.label };
    }
    const max = Math.max(...this.samples);
    return {
      gflops: round1(best.gflops),
      best_shape: best.label,
      samples_gflops: this.samples.map(round1),
      spread: +((max - Math.min(...this.samples)) / max).toFixed(3),
      shapes,
      load_1m: this.loads.map((l) => +l.toFixed(2)),
    };
  }

  async release(): Promise<void> {
    for (const p of this.probes) await p.session.release();
  }
}

/**
 * MFU figures against the peak, each rounded, plus `mfu_note` when one exceeds 1: the workload then
 * ran faster than every product of every peak sample, which on this shared machine means the load
 * dropped while it ran (the samples' spread and load averages show by how much).
 */
export function mfus(achievedGflops: Record<string, number>, peak: PeakSummary): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const over: string[] = [];
  for (const [name, g] of Object.entries(achievedGflops)) {
    const mfu = g / peak.gflops;
    out[name] = +mfu.toFixed(3);
    if (mfu > 1) over.push(`${name} ${mfu.toFixed(2)}`);
  }
  if (over.length)
    out.mfu_note =
      `${over.join(', ')} > 1: faster than any matmul of the peak samples (${peak.samples_gflops.join(', ')} GFLOP/s, spread ${peak.spread}, ` +
      `load ${peak.load_1m.join(', ')}): the machine's load changed between the peak samples and the run, so this ratio is not trustworthy; rerun`;
  return out;
}

const round1 = (x: number) => +x.toFixed(1);
