// LoRA finetuning of a FLUX.1 checkpoint (train-lora.ts) on a tiny random one: images encoded by
// the AE, captions by T5 + CLIP, the LoRA file it returns is
// readable and changes the samples at strength 1 but not at 0, `full` is refused, and the memory a real FLUX.1-dev step needs is estimated.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RgbImage, TrainRequest } from '../../src/model/backend.ts';
import { Flux1Backend } from '../../src/model/flux1/backend.ts';
import { FLUX1_MODELS } from '../../src/model/flux1/configs.ts';
import { trainingMemory } from '../../src/model/flux1/train-lora.ts';
import { readLora } from '../../src/model/lora/files.ts';
import { TINY_FLUX, writeTinyFlux1Folder } from './flux1-tiny-folder.ts';

function picture(shift: number): RgbImage {
  const [w, h] = [96, 80];
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([(i * 7 + shift) % 256, 120, ((i / w) * 3) % 256], i * 3);
  return { width: w, height: h, data };
}

describe('FLUX.1 LoRA finetune', () => {
  let root: string;
  let backend: Flux1Backend;
  before(async () => {
    root = writeTinyFlux1Folder('bfl');
    backend = await Flux1Backend.load(root, { threads: 1 });
  });
  after(async () => {
    await backend?.release();
    rmSync(root, { recursive: true, force: true });
  });
  const request: TrainRequest = {
    examples: [
      { image: picture(0), caption: 'a photo of TOK' },
      { image: picture(90), caption: 'TOK on grey' },
    ],
    iterations: 24,
    learningRate: 3e-3,
    priority: 'speed',
    finetuneType: 'lora',
    loraRank: 16,
    seed: 1,
  };

  it('trains a rank-16 block LoRA that moves the samples', async () => {
    const losses: number[] = [];
    const res = await backend.train(request, { onProgress: (_, i) => losses.push(i.loss) });
    assert.equal(res.steps, 24);
    assert.equal(losses.length, 24);
    assert.ok(Number.isFinite(res.finalLoss));
    const lora = readLora(res.lora, TINY_FLUX);
    assert.equal(lora.size, 10 + 3, 'every Linear of the double (10) and single (3) blocks');
    for (const m of lora.values()) assert.equal(m.rank, 16);

    const gen = { prompt: 'a photo of TOK', width: 64, height: 64, steps: 2, guidance: 3.5, seed: 3 };
    const base = await backend.generate(gen);
    const zero = await backend.generate({ ...gen, lora: { bytes: res.lora, strength: 0 } });
    const one = await backend.generate({ ...gen, lora: { bytes: res.lora, strength: 1 } });
    assert.deepEqual(zero.image.data, base.image.data, 'strength 0 = base');
    assert.notDeepEqual(one.image.data, base.image.data, 'the LoRA changes the sample');
  });

  it('refuses full finetunes with the reason', async () => {
    await assert.rejects(backend.train({ ...request, finetuneType: 'full' }), /full finetunes of a real FLUX.1 model are not possible/);
  });

  it('estimates a real FLUX.1-dev LoRA step (whole-graph trainer) far above one 80 GB GPU', (t) => {
    const at512 = trainingMemory(FLUX1_MODELS.dev.flux, 11_901_408_320, 1024, 512);
    t.diagnostic(`FLUX.1-dev LoRA step at 512²: ${(at512 / 2 ** 30).toFixed(0)} GiB`);
    assert.ok(at512 > 100 * 2 ** 30);
  });
});
