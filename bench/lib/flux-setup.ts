// The FLUX transformer of a config with random weights at the real initialisation's scales (speed
// does not depend on the values) and a random batch of a shape: what bench:model and
// bench:breakdown time.

import { readFileSync } from 'node:fs';
import { Rng } from '../../src/engine/rng.ts';
import { buildFluxGraph, type FluxShape } from '../../src/model/flux/build.ts';
import { type FluxParams, parseFluxParams } from '../../src/model/flux/config.ts';
import type { FluxBatch } from '../../src/model/flux/feeds.ts';
import { initialWeight } from '../../src/model/flux-mini/init.ts';
import type { Tensors } from '../../src/model/tensors.ts';

export function loadFluxParams(configPath = 'models/flux-mini/config.json'): FluxParams {
  const json = JSON.parse(readFileSync(configPath, 'utf8'));
  return parseFluxParams(json.flux ?? json);
}

export function randomFluxWeights(params: FluxParams, seed = 1): Tensors {
  const fg = buildFluxGraph(params, { batch: 1, imgTokens: 4, txtTokens: 4 });
  const weights: Tensors = new Map();
  const init = new Rng(seed);
  for (const [k, v] of fg.store.params) {
    const data = initialWeight(k, v.shape, init);
    if (data.every((x) => x === 0)) init.fillNormal(data, 0.02);
    weights.set(k, { shape: [...v.shape], data });
  }
  return weights;
}

/** (0, row, col) ids of a square grid of `imgTokens`, for each of `batch` images. */
export function gridIds(batch: number, imgTokens: number): Float32Array {
  const side = Math.round(Math.sqrt(imgTokens));
  const ids = new Float32Array(batch * imgTokens * 3);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < imgTokens; i++) {
      ids[(b * imgTokens + i) * 3 + 1] = Math.floor(i / side);
      ids[(b * imgTokens + i) * 3 + 2] = i % side;
    }
  return ids;
}

export function randomFluxBatch(params: FluxParams, shape: FluxShape, rng: Rng): FluxBatch {
  return {
    img: rng.fillNormal(new Float32Array(shape.batch * shape.imgTokens * params.in_channels)),
    imgIds: gridIds(shape.batch, shape.imgTokens),
    txt: rng.fillNormal(new Float32Array(shape.batch * shape.txtTokens * params.context_in_dim)),
    y: rng.fillNormal(new Float32Array(shape.batch * params.vec_in_dim)),
    timesteps: new Float32Array(shape.batch).fill(0.5),
    guidance: new Float32Array(shape.batch).fill(3.5),
  };
}
