// Shared benchmark helpers: median-of-N wall time, the same-process matmul peak that MFU is
// quoted against, and peak RSS.

import { Graph } from '../../src/engine/graph.ts';
import * as F from '../../src/engine/ops.ts';
import { Rng } from '../../src/engine/rng.ts';
import { Session } from '../../src/engine/session.ts';

export async function timeIt(fn: () => Promise<unknown>, { warmup = 2, reps = 7 } = {}): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Best achieved GFLOP/s of a large float32 MatMul in ONNX Runtime on this machine, measured now. */
export async function matmulPeakGflops(n = 1024, threads?: number): Promise<number> {
  const g = new Graph();
  const a = g.input('a', [n, n]);
  const b = g.input('b', [n, n]);
  const session = await Session.create({ outputs: { c: F.matmul(a, b) }, threads });
  const rng = new Rng(0);
  const feeds = { a: rng.fillNormal(new Float32Array(n * n)), b: rng.fillNormal(new Float32Array(n * n)) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let best = Infinity;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  await session.release();
  return (2 * n * n * n) / best / 1e9;
}

export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function parseArgs(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[a.slice(2)] = next;
      i++;
    } else out[a.slice(2)] = true;
  }
  return out;
}
