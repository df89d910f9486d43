// `fluxtune worker` as a child process (no HTTP: it claims jobs from a shared Postgres), for tests and
// benchmarks that run several of them and kill one for real.

import { type ChildProcess, spawn } from 'node:child_process';

const CLI = new URL('../../../src/main/cli.ts', import.meta.url).pathname;

export interface SpawnedWorker {
  child: ChildProcess;
  /** The lease owner it claims jobs as (from its start-up line). */
  owner: string;
  log(): string;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL: no shutdown hook runs, exactly like a crash. */
  kill9(): Promise<void>;
  /** SIGTERM: a graceful stop (its running jobs are released). */
  stop(): Promise<void>;
}

/** Starts `node --import tsx src/main/cli.ts worker`; resolves once it says it is claiming jobs. */
export async function spawnWorker(opts: { env: Record<string, string>; startTimeoutMs?: number }): Promise<SpawnedWorker> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT; // a worker, not a node:test subprocess
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const listeners = new Set<() => void>();
  child.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
    for (const l of listeners) l();
  });
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      for (const l of listeners) l();
      resolve();
    }),
  );

  function waitForLog(re: RegExp, timeoutMs = 120_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(log);
        if (m) return done(() => resolve(m[0]));
        if (exited) return done(() => reject(new Error(`worker exited (${exited!.code ?? exited!.signal}) before logging ${re}:\n${log}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`worker did not log ${re} within ${timeoutMs} ms:\n${log}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  }

  const line = await waitForLog(/worker \S+ claiming jobs/, opts.startTimeoutMs ?? 120_000).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  const signal = async (sig: NodeJS.Signals) => {
    if (!exited) child.kill(sig);
    await exitPromise;
  };
  return {
    child,
    owner: line.split(' ')[1]!,
    log: () => log,
    waitForLog,
    kill9: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}
