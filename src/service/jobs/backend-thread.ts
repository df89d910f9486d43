// The model's thread: loads the backend named in workerData and serves ThreadedBackend's calls.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { GenerateRequest, ModelBackend, RgbImage, TrainCheckpoint, TrainRequest } from '../../model/backend.ts';
import { lowerThisThreadsPriority } from '../thread-priority.ts';
import type { FromThread, ToThread } from './backend-thread-protocol.ts';

const port = parentPort!;
const { module, exportName, loaderArg, nice } = workerData as { module: string; exportName: string; loaderArg?: unknown; nice?: number };

// Before the model loads, so ONNX Runtime's compute threads inherit the lower priority.
lowerThisThreadsPriority(nice);
const aborts = new Map<number, AbortController>();
const acks = new Map<number, { resolve(): void; reject(e: Error): void }>();
let nextAck = 1;
const send = (m: FromThread) => port.postMessage(m);

const spec = /^[a-z]+:/.test(module) ? module : pathToFileURL(module).href;
const mod = (await import(spec)) as Record<string, (arg?: unknown) => Promise<ModelBackend>>;
const load = mod[exportName];
if (typeof load !== 'function') throw new Error(`${module} does not export ${exportName}()`);
const backend = await load(loaderArg);
send({ type: 'ready', name: backend.name });

function waitAck(_id: number, message: (ack: number) => FromThread): Promise<void> {
  const ack = nextAck++;
  return new Promise((resolve, reject) => {
    acks.set(ack, { resolve, reject });
    send(message(ack));
  });
}

async function serve(id: number, method: string, args: unknown[], signal: AbortSignal): Promise<unknown> {
  switch (method) {
    case 'train': {
      const [request, opts] = args as [TrainRequest, { resumeFrom?: TrainCheckpoint }];
      return backend.train(request, {
        signal,
        resumeFrom: opts.resumeFrom,
        onProgress: (progress, info) => send({ type: 'progress', id, progress, info }),
        onPreview: (png, step) => waitAck(id, (ack) => ({ type: 'preview', id, ack, png, step })),
        onCheckpoint: (cp) => waitAck(id, (ack) => ({ type: 'checkpoint', id, ack, bytes: cp.bytes, step: cp.step })),
      });
    }
    case 'generate': {
      const [request] = args as [GenerateRequest];
      return backend.generate({ ...request, signal, onProgress: (progress) => send({ type: 'progress', id, progress }) });
    }
    case 'caption': {
      const [images, candidates] = args as [RgbImage[], string[] | undefined];
      return backend.caption(images, candidates);
    }
    default:
      throw new Error(`unknown method ${method}`);
  }
}

port.on('message', (m: ToThread) => {
  if (m.type === 'abort') {
    aborts.get(m.id)?.abort(new Error('aborted'));
    return;
  }
  if (m.type === 'ack') {
    const waiter = acks.get(m.ack);
    acks.delete(m.ack);
    if (m.error) waiter?.reject(new Error(m.error));
    else waiter?.resolve();
    return;
  }
  const controller = new AbortController();
  aborts.set(m.id, controller);
  serve(m.id, m.method, m.args, controller.signal)
    .then((value) => send({ type: 'result', id: m.id, value }))
    .catch((err: Error) => send({ type: 'error', id: m.id, message: err?.message ?? String(err), name: err?.name ?? 'Error' }))
    .finally(() => aborts.delete(m.id));
});
