import { Worker } from 'node:worker_threads';
import type { GenerateRequest, GenerateResult, ImageCaption, ModelBackend, RgbImage, TrainHooks, TrainRequest, TrainResult } from '../../model/backend.ts';
import type { FromThread, ToThread } from './backend-thread-protocol.ts';

export interface ThreadedBackendOptions {
  /** Module URL (file:// or absolute path) that exports the loader. */
  module: string;
  /** Name of the exported async function returning a ModelBackend (e.g. "loadDefaultBackend"). */
  exportName: string;
  /** Passed to the loader, e.g. a test double's settings. */
  loaderArg?: unknown;
  /** Nice value (0–19) of the model thread and the compute threads it starts (Linux); 0/absent = unchanged. */
  nice?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  hooks?: TrainHooks;
  onGenerateProgress?: (p: number) => void;
}

/**
 * A ModelBackend whose model lives in a worker thread: training and sampling burn CPU there while
 * the HTTP event loop stays free to answer polls. Calls and hooks cross as plain messages
 * (backend.ts is plain data by design).
 */
export class ThreadedBackend implements ModelBackend {
  name = 'loading';
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromThread) => this.onMessage(m));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`model thread exited with code ${code}`)));
  }

  static async start(o: ThreadedBackendOptions): Promise<ThreadedBackend> {
    const worker = new Worker(new URL('./thread-bootstrap.mjs', import.meta.url), {
      workerData: {
        entry: new URL('./backend-thread.ts', import.meta.url).href,
        module: o.module,
        exportName: o.exportName,
        loaderArg: o.loaderArg,
        nice: o.nice,
      },
    });
    const backend = new ThreadedBackend(worker);
    backend.name = await new Promise<string>((resolve, reject) => {
      backend.pending.set(0, { resolve: (n) => resolve(n as string), reject });
    });
    return backend;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  train(request: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
    const { signal, resumeFrom } = hooks;
    return this.call('train', [request, { resumeFrom }], signal, { hooks }) as Promise<TrainResult>;
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    const { signal, onProgress, ...plain } = request;
    return this.call('generate', [plain], signal, { onGenerateProgress: onProgress }) as Promise<GenerateResult>;
  }

  caption(images: RgbImage[], candidates?: string[]): Promise<ImageCaption[]> {
    return this.call('caption', [images, candidates], undefined, {}) as Promise<ImageCaption[]>;
  }

  private call(method: 'train' | 'generate' | 'caption', args: unknown[], signal: AbortSignal | undefined, extra: Partial<Pending>): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.post({ type: 'abort', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        ...extra,
        resolve: (v) => {
          cleanup();
          resolve(v);
        },
        reject: (e) => {
          cleanup();
          reject(signal?.aborted ? signal.reason : e);
        },
      });
      this.post({ type: 'call', id, method, args });
    });
  }

  private post(m: ToThread): void {
    this.worker.postMessage(m);
  }

  private onMessage(m: FromThread): void {
    if (m.type === 'ready') {
      this.pending.get(0)?.resolve(m.name);
      this.pending.delete(0);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'result':
        this.pending.delete(m.id);
        p.resolve(m.value);
        return;
      case 'error':
        this.pending.delete(m.id);
        p.reject(Object.assign(new Error(m.message), { name: m.name }));
        return;
      case 'progress':
        if (p.onGenerateProgress) p.onGenerateProgress(m.progress);
        else p.hooks?.onProgress?.(m.progress, m.info ?? { step: 0, loss: NaN });
        return;
      case 'preview':
      case 'checkpoint': {
        // The trainer waits for these to be persisted before it moves on: reply when done.
        const work = m.type === 'preview' ? p.hooks?.onPreview?.(m.png, m.step) : p.hooks?.onCheckpoint?.({ step: m.step, bytes: m.bytes });
        Promise.resolve(work).then(
          () => this.post({ type: 'ack', id: m.id, ack: m.ack }),
          (err: Error) => this.post({ type: 'ack', id: m.id, ack: m.ack, error: err.message }),
        );
        return;
      }
    }
  }

  private failAll(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
