// Shared benchmark helpers: median-of-N wall time, peak RSS, arguments. The matmul peak that MFU is
// quoted against lives in peak.ts.

export interface Timings {
  /** Seconds per run, fastest first. */
  times: number[];
  median: number;
  /** The fastest run: what MFU is quoted from, as the peak is the best matmul (both taken when the shared machine gave us its cores). */
  best: number;
}

export async function timeRuns(fn: () => Promise<unknown>, { warmup = 2, reps = 7 } = {}): Promise<Timings> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { times, median: times[Math.floor(times.length / 2)]!, best: times[0]! };
}

/** Median seconds of `reps` runs after `warmup`. */
export async function timeIt(fn: () => Promise<unknown>, opts: { warmup?: number; reps?: number } = {}): Promise<number> {
  return (await timeRuns(fn, opts)).median;
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
