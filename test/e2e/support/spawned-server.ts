// The real server as a child process (`fluxtune serve`: HTTP on the main thread, the shipped model in a
// worker thread), for tests that must kill it for real or talk to it from another language.

import { type ChildProcess, spawn } from 'node:child_process';
import sharp from 'sharp';
import yazl from 'yazl';
import { listConcepts, loadSprites, renderScene } from '../../../src/model/pretrain/scenes.ts';

const CLI = new URL('../../../src/main/cli.ts', import.meta.url).pathname;

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stderr so far (its log). */
  log(): string;
  /** Resolves with the log line matching re once it appears (or rejects when the server exits first). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL: no shutdown hook runs, exactly like a crash. */
  kill9(): Promise<void>;
  /** SIGTERM, i.e. a graceful shutdown. */
  stop(): Promise<void>;
}

/** Starts `node --import tsx src/main/cli.ts serve` on dataDir with PORT=0; resolves once it listens. */
export async function spawnServer(opts: {
  dataDir: string;
  apiKey: string;
  env?: Record<string, string>;
  args?: string[];
  startTimeoutMs?: number;
}): Promise<SpawnedServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, FLUXTUNE_DATA_DIR: opts.dataDir, FLUXTUNE_API_KEY: opts.apiKey, PORT: '0', HOST: '127.0.0.1', ...opts.env };
  delete env.NODE_TEST_CONTEXT; // the child is a server, not a node:test subprocess
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...(opts.args ?? [])], { env, stdio: ['ignore', 'ignore', 'pipe'] });
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
        if (exited) return done(() => reject(new Error(`server exited (${exited!.code ?? exited!.signal}) before logging ${re}:\n${log}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`server did not log ${re} within ${timeoutMs} ms:\n${log}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  }

  const line = await waitForLog(/listening on http:\/\/\S+/, opts.startTimeoutMs ?? 180_000).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  const url = line.slice('listening on '.length);
  const signal = async (sig: NodeJS.Signals) => {
    if (!exited) child.kill(sig);
    await exitPromise;
  };
  return { url, child, log: () => log, waitForLog, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** A small training set from the pretraining scenes: n 128×128 PNGs of one concept with .txt captions, as a ZIP. */
export async function sceneZip(n = 3, concept = 'penguin'): Promise<Buffer> {
  const sprites = await loadSprites(listConcepts().filter((c) => c.name === concept));
  const zip = new yazl.ZipFile();
  const backgrounds = ['white', 'blue', 'green', 'yellow'];
  for (let i = 0; i < n; i++) {
    const bg = backgrounds[i % backgrounds.length]!;
    const img = renderScene({ background: bg, objects: [{ concept, cx: 0.5, cy: 0.5, size: 0.7 }] }, sprites, 128, 128);
    zip.addBuffer(
      await sharp(img.data, { raw: { width: 128, height: 128, channels: 3 } })
        .png()
        .toBuffer(),
      `img${i}.png`,
    );
    zip.addBuffer(Buffer.from(`TOK on a ${bg} background`), `img${i}.txt`);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
