// The released FLUX.1 transformers' parameter sets: for dev, schnell, canny-dev, depth-dev and
// fill-dev (../shared/vectors/flux1-manifests, taken from BFL's model definitions), our module
// tree at FLUX1_MODELS' config declares exactly the manifest's keys and shapes — nothing
// missing, nothing extra — and its parameter count; built without weights (a Flux over a bare
// ParamStore only declares graph inputs). The shapes alone also give back the variant and config,
// which is how a checkpoint folder is recognised. (The autoencoder's is ae-manifest.test.ts.)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.ts';
import { parseFluxParams } from '../../src/model/flux/config.ts';
import { Flux } from '../../src/model/flux/model.ts';
import { ParamStore } from '../../src/model/flux/params.ts';
import { FLUX1_MODELS, type Flux1Variant, paramsFromShapes, variantFromShapes } from '../../src/model/flux1/configs.ts';

interface Manifest {
  params: unknown;
  n_params: number;
  tensors: Record<string, number[]>;
}

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../shared/vectors/flux1-manifests/${name}.json`, import.meta.url), 'utf8')) as Manifest;

for (const variant of Object.keys(FLUX1_MODELS) as Flux1Variant[]) {
  describe(`flux1-${variant}.safetensors manifest`, () => {
    const manifest = read(`flux1-${variant}`);
    const model = FLUX1_MODELS[variant];
    const store = new ParamStore(new Graph(), 'float32');
    new Flux(model.flux, store);
    const ours = store.shapes();

    it("FLUX1_MODELS' config is the manifest's FluxParams", () => {
      assert.deepEqual(model.flux, parseFluxParams(manifest.params));
    });

    it('every manifest key is declared with its shape, and no other', () => {
      const missing = Object.keys(manifest.tensors).filter((k) => !ours.has(k));
      const extra = [...ours.keys()].filter((k) => !(k in manifest.tensors));
      assert.deepEqual(missing, [], 'manifest keys the module tree lacks');
      assert.deepEqual(extra, [], 'keys the real checkpoint does not have');
      const misshapen = Object.entries(manifest.tensors)
        .filter(([k, s]) => ours.get(k)?.join(',') !== s.join(','))
        .map(([k, s]) => `${k}: manifest [${s}] vs ours [${ours.get(k)}]`);
      assert.deepEqual(misshapen, []);
    });

    it('totals the manifest parameter count', () => {
      let n = 0;
      for (const s of ours.values()) n += s.reduce((a, b) => a * b, 1);
      assert.equal(n, manifest.n_params);
    });

    it('the shapes alone give back the variant and its config', () => {
      const shapes = new Map(Object.entries(manifest.tensors));
      assert.equal(variantFromShapes(shapes, `flux1-${variant}.safetensors`), variant);
      assert.deepEqual(paramsFromShapes(shapes), model.flux);
    });
  });
}
