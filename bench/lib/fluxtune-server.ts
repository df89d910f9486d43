// A real `fluxtune serve` child process for the benches that measure the service end to end: its own
// data directory and API key, a free port, stderr parsed line by line (the benches' probes print
// there), and stopped with the bench, Ctrl-C included, so no server is left behind.

import { type ChildProcess, spawn } from 'node:child_process';

const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;

export interface FluxtuneServer {
  url: string;
  /** Everything the server printed on stderr, less the lines `onLine` claimed. */
  log(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  dataDir: string;
  apiKey: string;
  /** Extra `serve` arguments, e.g. --no-worker. */
  args?: string[];
  /** Modules preloaded with --import before the CLI (e.g. an event-loop probe). */
  imports?: string[];
  env?: Record<string, string>;
  /** Sees each stderr line first; returning true keeps it out of log(). */
  onLine?: (line: string) => boolean;
}

const running = new Set<ChildProcess>();
let hooked = false;
function killOnExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const c of running) c.kill('SIGTERM');
  };
  process.on('exit', killAll);
  // the shell's convention: 128 + the signal's number
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(code);
    });
  }
}

export async function startFluxtuneServer(o: ServerOptions): Promise<FluxtuneServer> {
  killOnExit();
  const imports = (o.imports ?? []).flatMap((m) => ['--import', m]);
  const child = spawn(process.execPath, ['--import', 'tsx', ...imports, CLI, 'serve', ...(o.args ?? [])], {
    env: { ...process.env, FLUXTUNE_DATA_DIR: o.dataDir, FLUXTUNE_API_KEY: o.apiKey, PORT: '0', ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let log = '';
  let pending = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (o.onLine?.(line)) continue;
        log += `${line}\n`;
        const m = /listening on (http:\/\/\S+)/.exec(line);
        if (m) resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    url,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
