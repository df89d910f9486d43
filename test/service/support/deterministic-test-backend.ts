// TEST DOUBLE — not a model. A ModelBackend that does real but trivial deterministic computation,
// so API contract tests run in milliseconds: "training" hashes the examples into LoRA bytes;
// "generation" paints pixels that are a function of prompt, seed and LoRA bytes × strength.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateSync } from 'node:zlib';
import type {
  GenerateRequest,
  GenerateResult,
  ImageCaption,
  ModelBackend,
  RgbImage,
  TrainHooks,
  TrainRequest,
  TrainResult,
} from '../../../src/model/backend.ts';

export interface TestBackendOptions {
  /** Simulated training steps (independent of iterations, to keep tests fast). */
  steps?: number;
  stepDelayMs?: number;
  checkpointEvery?: number;
  /** Throw on the first N train calls (retry tests). */
  failFirstTrains?: number;
}

export interface TestBackendLog {
  trains: { resumedFromStep: number | null; captions: string[] }[];
  generates: GenerateRequest[];
  captions: number;
}

const digest = (...parts: (string | Uint8Array)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export class DeterministicTestBackend implements ModelBackend {
  readonly name = 'deterministic-test-double';
  readonly log: TestBackendLog = { trains: [], generates: [], captions: 0 };
  private trainCalls = 0;

  constructor(private readonly o: TestBackendOptions = {}) {}

  async train(request: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
    const started = Date.now();
    this.trainCalls++;
    const steps = this.o.steps ?? 4;
    const every = this.o.checkpointEvery ?? 2;
    let state = hooks.resumeFrom ? Buffer.from(hooks.resumeFrom.bytes) : digest(String(request.seed));
    const first = hooks.resumeFrom ? hooks.resumeFrom.step : 0;
    this.log.trains.push({ resumedFromStep: hooks.resumeFrom?.step ?? null, captions: request.examples.map((e) => e.caption) });
    if (this.trainCalls <= (this.o.failFirstTrains ?? 0)) throw new Error(`simulated training failure #${this.trainCalls}`);
    for (let step = first + 1; step <= steps; step++) {
      await sleep(this.o.stepDelayMs ?? 0, undefined, { signal: hooks.signal });
      const ex = request.examples[step % request.examples.length]!;
      state = digest(state, ex.caption, ex.image.data);
      hooks.onProgress?.(step / steps, { step, loss: 1 / step });
      if (step % every === 0 && step < steps) {
        await hooks.onCheckpoint?.({ step, bytes: new Uint8Array(state) });
        await hooks.onPreview?.(pngOfColour(state), step);
      }
    }
    const lora = new Uint8Array(64);
    lora.set(state, 0);
    lora.set(digest(state, request.examples.map((e) => e.caption).join('\n')), 32);
    return { lora, steps, finalLoss: 1 / steps, trainingSeconds: (Date.now() - started) / 1000 };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.log.generates.push({ ...request, signal: undefined, onProgress: undefined });
    const w = Math.max(8, Math.round(request.width / 8));
    const h = Math.max(8, Math.round(request.height / 8));
    const base = digest(request.prompt, String(request.seed));
    const data = new Uint8Array(w * h * 3);
    const strength = request.lora?.strength ?? 0;
    for (let i = 0; i < w * h * 3; i++) {
      const delta = request.lora ? (request.lora.bytes[i % request.lora.bytes.length]! - 128) * 0.5 * strength : 0;
      data[i] = Math.max(0, Math.min(255, Math.round(base[i % 32]! + delta)));
    }
    request.onProgress?.(1);
    return { image: { width: w, height: h, data }, nativeWidth: w, nativeHeight: h };
  }

  async caption(images: RgbImage[]): Promise<ImageCaption[]> {
    this.log.captions += images.length;
    return images.map((im) => ({ text: `a test picture ${im.width} by ${im.height}`, layout: null, background: null, confidence: 0.9 }));
  }
}

/** A 1×1 PNG of a colour from the bytes (a minimal valid PNG, built by hand to avoid async encoders here). */
function pngOfColour(bytes: Uint8Array): Uint8Array {
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  const raw = Buffer.from([0, bytes[0]!, bytes[1]!, bytes[2]!]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** Loader for ThreadedBackend tests: `loadTestBackend(options)` in the model thread. */
export async function loadTestBackend(options?: TestBackendOptions): Promise<ModelBackend> {
  return new DeterministicTestBackend(options);
}
