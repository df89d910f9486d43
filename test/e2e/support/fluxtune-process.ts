// `fluxtune <command>` as a child process (`node --import tsx src/main/cli.ts …`), its stderr kept as
// its log: the one spawn helper behind spawned-server.ts (serve) and spawned-worker.ts (worker), and
// what a test uses to watch a process that is expected to fail.

import { type ChildProcess, spawn } from 'node:child_process';

const CLI = new URL('../../../src/main/cli.ts', import.meta.url).pathname;

export interface FluxtuneProcess {
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (its log). */
  log(): string;
  /** Resolves with the first match of re in the log once it appears (rejects when the process exits first). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once the process has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no shutdown hook runs, exactly like a crash. */
  kill9(): Promise<void>;
  /** SIGTERM, i.e. a graceful shutdown. */
  stop(): Promise<void>;
}

/** Starts `fluxtune <command> <args…>` with env added to this process's environment. */
export function startFluxtune(command: string, opts: { args?: string[]; env?: Record<string, string> } = {}): FluxtuneProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT; // the child is a fluxtune process, not a node:test subprocess
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, command, ...(opts.args ?? [])], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const listeners = new Set<() => void>();
  child.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      for (const l of listeners) l();
      resolve(ended);
    }),
  );

  function waitForLog(re: RegExp, timeoutMs = 120_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(log);
        if (m) return done(() => resolve(m[0]));
        if (ended) return done(() => reject(new Error(`fluxtune ${command} exited (${ended!.code ?? ended!.signal}) before logging ${re}:\n${log}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`fluxtune ${command} did not log ${re} within ${timeoutMs} ms:\n${log}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  }

  const signal = async (sig: NodeJS.Signals) => {
    if (!ended) child.kill(sig);
    await exited;
  };
  return { child, log: () => log, waitForLog, exited, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** Starts `fluxtune <command>` and resolves with it and its line matching ready (SIGKILLs it and rejects when that never comes). */
export async function startFluxtuneUntil(
  command: string,
  ready: RegExp,
  opts: { args?: string[]; env?: Record<string, string>; startTimeoutMs?: number },
): Promise<{ process: FluxtuneProcess; line: string }> {
  const p = startFluxtune(command, opts);
  const line = await p.waitForLog(ready, opts.startTimeoutMs).catch(async (err) => {
    await p.kill9();
    throw err;
  });
  return { process: p, line };
}
