// TEST DOUBLE — not a model. The backend of the `fluxtune worker` processes in the multi-node e2e and in
// bench:scale (FLUXTUNE_BACKEND_MODULE=<this file>#loadMultiNodeBackend, FLUXTUNE_BACKEND_ARG = its
// options as JSON): DeterministicTestBackend's timed steps, checkpoints and previews, but the LoRA it
// returns is a real flux-mini LoRA file (derived from the training state), so finetune_weights can
// convert and serve it; and every finished call is written to stderr as one line, so a test can count
// across processes what ran where:
//   [test-backend] train-done seed=<seed> resumed=<step|none>
//   [test-backend] generate prompt=<prompt>

import type { GenerateRequest, GenerateResult, ModelBackend, TrainHooks, TrainRequest, TrainResult } from '../../../src/model/backend.ts';
import { DeterministicTestBackend, type TestBackendOptions } from '../../service/support/deterministic-test-backend.ts';
import { fluxMiniLoraFile } from '../../support/flux-mini-lora.ts';

class MultiNodeBackend implements ModelBackend {
  readonly name = 'multi-node-test-double';
  private readonly inner: DeterministicTestBackend;

  constructor(private readonly o: TestBackendOptions & { generateDelayMs?: number }) {
    this.inner = new DeterministicTestBackend(o);
  }

  async train(request: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
    const r = await this.inner.train(request, hooks);
    process.stderr.write(`[test-backend] train-done seed=${request.seed} resumed=${hooks.resumeFrom?.step ?? 'none'}\n`);
    // The state's first word seeds the factors: a resumed run ends in the same file as an unbroken one.
    const seed = new DataView(r.lora.buffer, r.lora.byteOffset).getUint32(0, true) || 1;
    return { ...r, lora: fluxMiniLoraFile(4, seed) };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (this.o.generateDelayMs) await new Promise((resolve) => setTimeout(resolve, this.o.generateDelayMs));
    const r = await this.inner.generate(request);
    process.stderr.write(`[test-backend] generate prompt=${request.prompt}\n`);
    return r;
  }

  caption: DeterministicTestBackend['caption'] = (images) => this.inner.caption(images);
}

export async function loadMultiNodeBackend(options: TestBackendOptions & { generateDelayMs?: number } = {}): Promise<ModelBackend> {
  return new MultiNodeBackend(options);
}
