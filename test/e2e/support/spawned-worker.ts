// `fluxtune worker` as a child process (no HTTP: it claims jobs from a shared Postgres), for tests and
// benchmarks that run several of them and kill one for real.

import { type FluxtuneProcess, startFluxtuneUntil } from './fluxtune-process.ts';

export interface SpawnedWorker extends FluxtuneProcess {
  /** The lease owner it claims jobs as (from its start-up line). */
  owner: string;
}

/** Starts `fluxtune worker`; resolves once it says it is claiming jobs. stop() is graceful: its running jobs are released. */
export async function spawnWorker(opts: { env: Record<string, string>; startTimeoutMs?: number }): Promise<SpawnedWorker> {
  const { process: worker, line } = await startFluxtuneUntil('worker', /worker \S+ claiming jobs/, {
    env: opts.env,
    startTimeoutMs: opts.startTimeoutMs ?? 120_000,
  });
  return { ...worker, owner: line.split(' ')[1]! };
}
