// The real FLUX.1 autoencoder's parameter set: at the config of ../shared/vectors/flux1-manifests/
// ae.json (BFL's ae_params: ch 128, ch_mult [1,2,4,4], 2 res blocks), our module tree declares
// exactly the keys and shapes of the released ae.safetensors — nothing missing, nothing extra —
// built without weights (the graph only declares inputs; nothing runs).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.ts';
import { AutoEncoder } from '../../src/model/ae/autoencoder.ts';
import { buildAeDecodeGraph, buildAeEncodeGraph } from '../../src/model/ae/build.ts';
import { FLUX1_AE, latentFactor, parseAeParams } from '../../src/model/ae/config.ts';
import { AeParamStore } from '../../src/model/ae/params.ts';

interface Manifest {
  params: unknown;
  n_params: number;
  tensors: Record<string, number[]>;
}

const manifest = JSON.parse(readFileSync(new URL('../../../shared/vectors/flux1-manifests/ae.json', import.meta.url), 'utf8')) as Manifest;

describe('FLUX.1 ae.safetensors manifest', () => {
  const params = parseAeParams(manifest.params);
  const store = new AeParamStore(new Graph(), 'float32');
  new AutoEncoder(params, store);

  it('its config is FLUX1_AE', () => {
    assert.deepEqual(params, FLUX1_AE);
    assert.equal(latentFactor(params), 8);
  });

  it('every manifest key is declared with its shape, and no other', () => {
    const ours = store.shapes();
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
    for (const s of store.shapes().values()) n += s.reduce((a, b) => a * b, 1);
    assert.equal(n, manifest.n_params);
  });

  it('builds encode and decode graphs at 256×256 with the latent shape FLUX.1 uses', () => {
    const enc = buildAeEncodeGraph(params, { batch: 1, height: 256, width: 256 });
    assert.deepEqual([...enc.outputs.z!.shape], [1, 16, 32, 32]);
    assert.deepEqual([...enc.outputs.moments!.shape], [1, 32, 32, 32]);
    const dec = buildAeDecodeGraph(params, { batch: 1, height: 256, width: 256 });
    assert.deepEqual([...dec.outputs.image!.shape], [1, 3, 256, 256]);
  });
});
