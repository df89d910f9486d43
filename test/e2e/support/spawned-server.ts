// The real server as a child process (`fluxtune serve`: HTTP on the main thread, the shipped model in a
// worker thread), for tests that must kill it for real or talk to it from another language.

import { type FluxtuneProcess, startFluxtuneUntil } from './fluxtune-process.ts';

export interface SpawnedServer extends FluxtuneProcess {
  url: string;
}

/** Starts `fluxtune serve` on dataDir with PORT=0; resolves once it listens. */
export async function spawnServer(opts: {
  dataDir: string;
  apiKey: string;
  env?: Record<string, string>;
  args?: string[];
  startTimeoutMs?: number;
}): Promise<SpawnedServer> {
  const { process: server, line } = await startFluxtuneUntil('serve', /listening on http:\/\/\S+/, {
    args: opts.args,
    env: { FLUXTUNE_DATA_DIR: opts.dataDir, FLUXTUNE_API_KEY: opts.apiKey, PORT: '0', HOST: '127.0.0.1', ...opts.env },
    startTimeoutMs: opts.startTimeoutMs ?? 180_000,
  });
  return { ...server, url: line.slice('listening on '.length) };
}
