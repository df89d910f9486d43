import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { DatasetLimits } from '../../dataset/limits.ts';
import { HttpError } from './http-errors.ts';
import type { UploadOutcome } from './upload-ingest.ts';
import type { FromIngestThread, ToReceiver, UploadChunk } from './upload-thread-protocol.ts';

export interface UploadPoolOptions {
  /** Long-lived ingest threads, started on the first upload (plus one receiver thread). */
  threads: number;
  /** Uploads in progress (receiving or being ingested) per key, and in all. */
  maxPerKey: number;
  maxTotal: number;
  /** Nice value of the ingest threads (Linux); 0 = as the HTTP thread. */
  nice: number;
  /** All uploads together are read no faster than this (0: no limit). */
  bytesPerSecond: number;
}

/** How far reading may run ahead of the rate at once. */
const BURST_BYTES = 1 << 20;

/** One upload in progress: feed it the body's chunks, then end it for the outcome; or abort it. Either releases its slot. */
export interface Upload {
  /**
   * Hands the chunk to the receiver thread (its memory, when it is the chunk's own; else a copy): the
   * HTTP thread keeps nothing. Returns how long to stop reading (ms) to keep to the pool's rate.
   */
  write(chunk: Uint8Array): number;
  end(o: { limits: DatasetLimits; maxFieldBytes: number }): Promise<UploadOutcome>;
  abort(): void;
}

interface Job {
  upload: number;
  task: { limits: DatasetLimits; maxFieldBytes: number };
  resolve(outcome: UploadOutcome): void;
  reject(err: Error): void;
}

interface IngestThread {
  index: number;
  worker: Worker;
  job: Job | null;
}

/**
 * The threads that receive and ingest finetune uploads, and the bound on uploads in flight: at most
 * maxPerKey per key and maxTotal in all, each holding about its body's size of memory (the body, then
 * the ZIP decoded into that same memory), so four 130 MB uploads cost about 0.5 GB, not several.
 *
 * The HTTP thread only posts each socket chunk to the receiver (a copy of ≤ 64 KB into memory the
 * allocator reuses): writing 130 MB into fresh memory costs 0.1–0.4 s of page faults, which must not be
 * this thread's. The receiver hands a finished body straight to an ingest thread (transferred, never
 * back through here).
 */
export class UploadPool {
  private receiver: Worker | null = null;
  private readonly threads: IngestThread[] = [];
  private readonly queue: Job[] = [];
  /** Uploads the receiver holds (begun, not yet dispatched): failed together if it dies. */
  private readonly receiving = new Map<number, (err: Error) => void>();
  private readonly perKey = new Map<string, number>();
  private total = 0;
  private nextUpload = 1;
  private nextThread = 1;
  private closed = false;

  constructor(private readonly o: UploadPoolOptions) {}

  /** Uploads holding a slot now. */
  get inFlight(): number {
    return this.total;
  }

  /** Starts an upload by `keyId` (declared length, if any), or throws the 429 (this key) / 503 (everyone) that says why not. */
  begin(keyId: string, length: number | null): Upload {
    if (this.closed) throw new HttpError(503, { detail: 'The server is shutting down.' });
    const release = this.acquire(keyId);
    const receiver = this.receiverThread();
    const upload = this.nextUpload++;
    const { port1, port2 } = new MessageChannel();
    receiver.postMessage({ type: 'begin', upload, length, port: port2 } satisfies ToReceiver, [port2]);
    let failure: Error | null = null;
    this.receiving.set(upload, (err) => {
      failure = err;
    });
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      release();
      return true;
    };
    return {
      write: (chunk) => {
        if (settled) return 0;
        // Counted first: posting moves the chunk's memory away (it reads as empty afterwards).
        const bytes = chunk.length;
        post(port1, chunk);
        return this.spend(bytes);
      },
      end: (task) => {
        if (settled) return Promise.reject(new Error('upload already ended'));
        if (failure) {
          settle();
          this.receiving.delete(upload);
          return Promise.reject(failure);
        }
        port1.postMessage({ end: true } satisfies UploadChunk);
        port1.close();
        return new Promise<UploadOutcome>((resolve, reject) => {
          this.queue.push({
            upload,
            task,
            resolve: (v) => {
              settle();
              resolve(v);
            },
            reject: (err) => {
              settle();
              reject(err);
            },
          });
          this.receiving.set(upload, (err) => {
            const i = this.queue.findIndex((j) => j.upload === upload);
            if (i >= 0) this.queue.splice(i, 1)[0]!.reject(err);
          });
          this.dispatch();
        });
      },
      abort: () => {
        if (!settle()) return;
        this.receiving.delete(upload);
        port1.close();
      },
    };
  }

  /** Ends the threads; uploads still in flight fail (a 500 each), none waits forever. */
  async close(): Promise<void> {
    this.closed = true;
    const stopping = new Error('the server is shutting down');
    for (const fail of this.receiving.values()) fail(stopping);
    this.receiving.clear();
    for (const job of this.queue.splice(0)) job.reject(stopping);
    const threads = this.threads.splice(0);
    for (const t of threads) {
      t.job?.reject(stopping);
      t.job = null;
    }
    const receiver = this.receiver;
    this.receiver = null;
    await Promise.all([...threads.map((t) => t.worker.terminate()), receiver?.terminate()]);
  }

  private tokens = BURST_BYTES;
  private refilled = performance.now();

  /**
   * A token bucket shared by all uploads. Reading a socket costs this thread about 1 ms per MB (the
   * kernel's copies and TCP work, Node's buffers): at loopback speed four uploads held it for tens of
   * ms per loop turn. At the default 64 MB/s they take a small share of it, a few hundred KB at a time:
   * an upload that overdraws the bucket waits until a quarter of it is back (fewer, longer pauses).
   */
  private spend(bytes: number): number {
    const rate = this.o.bytesPerSecond;
    if (rate <= 0) return 0;
    const now = performance.now();
    this.tokens = Math.min(BURST_BYTES, this.tokens + ((now - this.refilled) * rate) / 1000);
    this.refilled = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil(((BURST_BYTES / 4 - this.tokens) / rate) * 1000);
  }

  private acquire(keyId: string): () => void {
    const mine = this.perKey.get(keyId) ?? 0;
    if (mine >= this.o.maxPerKey) {
      throw new HttpError(429, {
        detail: `Too many uploads in progress for this key: at most ${this.o.maxPerKey} finetune uploads at a time. Retry when one has been answered.`,
      });
    }
    if (this.total >= this.o.maxTotal) {
      throw new HttpError(503, { detail: `The server is receiving as many uploads as it accepts at once (${this.o.maxTotal}). Retry in a few seconds.` });
    }
    this.perKey.set(keyId, mine + 1);
    this.total++;
    return () => {
      this.total--;
      const left = (this.perKey.get(keyId) ?? 1) - 1;
      if (left > 0) this.perKey.set(keyId, left);
      else this.perKey.delete(keyId);
    };
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.receiver) {
      let thread = this.threads.find((t) => t.job === null);
      if (!thread) {
        if (this.threads.length >= this.o.threads) return;
        thread = this.startIngestThread();
      }
      const job = this.queue.shift()!;
      thread.job = job;
      this.receiving.delete(job.upload);
      this.receiver!.postMessage({
        type: 'dispatch',
        upload: job.upload,
        thread: thread.index,
        task: { id: job.upload, ...job.task },
      } satisfies ToReceiver);
    }
  }

  private receiverThread(): Worker {
    if (this.receiver) return this.receiver;
    const worker = spawn('./upload-receiver-thread.ts', Math.min(this.o.nice, 5));
    this.receiver = worker;
    const lost = (err: Error) => {
      if (this.receiver !== worker) return;
      this.receiver = null;
      for (const fail of this.receiving.values()) fail(err);
      this.receiving.clear();
      // Ingest threads' inboxes were ports to it: start them afresh with the next receiver.
      for (const t of this.threads.splice(0)) {
        t.job?.reject(err);
        void t.worker.terminate();
      }
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`upload receiver thread exited with code ${code}`)));
    return worker;
  }

  private startIngestThread(): IngestThread {
    const worker = spawn('./upload-thread.ts', this.o.nice);
    const thread: IngestThread = { index: this.nextThread++, worker, job: null };
    this.threads.push(thread);
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ inbox: port1 }, [port1 as MessagePort]);
    this.receiver!.postMessage({ type: 'thread', thread: thread.index, port: port2 } satisfies ToReceiver, [port2]);
    worker.on('message', (m: FromIngestThread) => {
      const job = thread.job;
      thread.job = null;
      if (job && job.upload === m.id) {
        if (m.ok) job.resolve(withBuffers(m.outcome));
        else job.reject(new Error(`upload ingest thread: ${m.error}`));
      }
      this.dispatch();
    });
    const lost = (err: Error) => {
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      thread.job?.reject(err);
      thread.job = null;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`upload ingest thread exited with code ${code}`)));
    return thread;
  }
}

/**
 * A socket chunk is a Buffer over memory of its own (Node copies each body span out of the read
 * buffer): moved, not copied. The receiver frees it, and the next read on this thread reuses it, warm.
 * Anything else (a slice of a shared buffer, memory that may not be moved) is copied.
 */
function post(port: MessagePort, chunk: Uint8Array): void {
  const memory = chunk.buffer;
  if (memory instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === memory.byteLength) {
    try {
      port.postMessage(chunk satisfies UploadChunk, [memory]);
      return;
    } catch {}
  }
  port.postMessage(chunk satisfies UploadChunk);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The server's upload pool (server.ts), for diagnostics and tests. */
    uploadPool: UploadPool;
  }
}

function spawn(entry: string, nice: number): Worker {
  // thread-bootstrap registers the TypeScript loader in the thread when the entry is a .ts file.
  const worker = new Worker(new URL('../jobs/thread-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL(entry, import.meta.url).href, nice },
  });
  // Idle upload threads never keep the process alive.
  worker.unref();
  return worker;
}

/** PNGs arrive as Uint8Arrays over transferred memory; the handler and the blob store want Buffers (no copy). */
function withBuffers(outcome: UploadOutcome): UploadOutcome {
  if (outcome.kind === 'parsed' && outcome.dataset) {
    for (const image of outcome.dataset) {
      const png = image.png as Uint8Array;
      image.png = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
    }
  }
  return outcome;
}
