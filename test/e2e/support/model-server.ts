// An in-process server on the default backend entry (src/model/index.ts#loadDefaultBackend) in a worker
// thread, as `fluxtune serve` runs it, and the HTTP steps the model e2e tests share: train a finetune
// until Ready, generate and read back the sample's pixels.

import assert from 'node:assert/strict';
import sharp, { type OutputInfo } from 'sharp';
import { ThreadedBackend } from '../../../src/service/jobs/threaded-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from '../../service/support/harness.ts';

export type Api = ReturnType<typeof apiClient>;

export interface ModelServer {
  server: TestServer;
  /** A JSON client with KEY_A. */
  api: Api;
  stop(): Promise<void>;
}

/**
 * Serves the default model. env (e.g. FLUXTUNE_MODEL) is set in this process while the server runs: the
 * worker thread starts with a copy of the environment, and the HTTP side reads it too (an imported LoRA
 * is checked against that model). stop() puts the previous values back.
 */
export async function serveDefaultModel(env: Record<string, string> = {}): Promise<ModelServer> {
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const restoreEnv = () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  let backend: ThreadedBackend | undefined;
  try {
    backend = await ThreadedBackend.start({ module: new URL('../../../src/model/index.ts', import.meta.url).href, exportName: 'loadDefaultBackend' });
    const server = await startTestServer({ backend });
    const started = backend;
    return {
      server,
      api: apiClient(server.url, KEY_A),
      async stop() {
        await server.stop();
        await started.close();
        restoreEnv();
      },
    };
  } catch (err) {
    await backend?.close();
    restoreEnv();
    throw err;
  }
}

/** Polls get_result until the task is Ready (failing at once on Error); onPoll sees every answer. */
export function untilReady(api: Api, id: string, opts: { timeoutMs: number; everyMs?: number; what?: string; onPoll?: (body: any) => void }): Promise<any> {
  return waitUntil(
    async () => {
      const r = await api.get(`/v1/get_result?id=${id}`);
      assert.notEqual(r.body.status, 'Error', `${opts.what ? `${opts.what}: ` : ''}${JSON.stringify(r.body)}`);
      opts.onPoll?.(r.body);
      return r.body.status === 'Ready' ? r.body : null;
    },
    opts.timeoutMs,
    opts.everyMs ?? 100,
  );
}

/** POST /v1/finetune with body; resolves with the finetune id once it is Ready, and whether a progress strictly between 0 and 1 was seen. */
export async function trainFinetune(api: Api, body: Record<string, unknown>, timeoutMs: number): Promise<{ id: string; sawProgress: boolean }> {
  const res = await api.post('/v1/finetune', body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const id = res.body.finetune_id as string;
  let sawProgress = false;
  await untilReady(api, id, {
    timeoutMs,
    everyMs: 200,
    what: 'the finetune',
    onPoll: (b) => {
      if (typeof b.progress === 'number' && b.progress > 0 && b.progress < 1) sawProgress = true;
    },
  });
  return { id, sawProgress };
}

export interface Sample {
  /** get_result's answer once Ready. */
  ready: any;
  /** The sample's pixels as decoded (RGB: info.channels says). */
  data: Uint8Array;
  info: OutputInfo;
}

/** Submits a generation on route (e.g. '/v1/flux-pro'), waits for it and decodes the sample fetched from its URL. */
export async function generate(api: Api, route: string, body: Record<string, unknown>, timeoutMs = 300_000): Promise<Sample> {
  const submitted = await api.post(route, body);
  assert.equal(submitted.status, 200, `${route}: ${JSON.stringify(submitted.body)}`);
  const ready = await untilReady(api, submitted.body.id, { timeoutMs, what: route });
  const file = await fetch(ready.result.sample);
  assert.equal(file.status, 200, `${route}: the sample URL answers`);
  const { data, info } = await sharp(Buffer.from(await file.arrayBuffer()))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { ready, data: new Uint8Array(data), info };
}

export const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + Math.abs(x - b[i]!), 0) / a.length;
