// The LoRA round trip with the shipped flux-mini: a LoRA file imported over HTTP generates a
// different image than the base model; downloaded in each layout and imported again it generates
// the same image — bit for bit from an fp32 file (the factors come back exactly), within a fraction of a
// grey level on average from a bf16 one (0.02 measured).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { FluxMiniBackend } from '../../src/model/flux-mini/backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from '../service/support/harness.ts';
import { fluxMiniLoraFile } from '../support/flux-mini-lora.ts';

describe('LoRA download → import → generate with the real model', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    server = await startTestServer({ backend: await FluxMiniBackend.load({ threads: 2 }) });
    api = apiClient(server.url, KEY_A);
  });
  after(() => server?.stop());

  const common = { prompt: 'TOK on a white background', width: 256, height: 256, steps: 6, guidance: 4, seed: 7, output_format: 'png' };

  async function sample(route: string, body: Record<string, unknown>): Promise<Uint8Array> {
    const submitted = await api.post(route, body);
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const ready = await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${submitted.body.id}`);
        assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
        return r.body.status === 'Ready' ? r.body : null;
      },
      120_000,
      50,
    );
    return new Uint8Array(
      await sharp(Buffer.from(await (await fetch(ready.result.sample)).arrayBuffer()))
        .raw()
        .toBuffer(),
    );
  }

  async function importFile(bytes: Uint8Array, comment: string): Promise<string> {
    const r = await api.post('/v1/finetune_import', { file_data: Buffer.from(bytes).toString('base64'), finetune_comment: comment });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.finetune_id;
  }

  const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + Math.abs(x - b[i]!), 0) / a.length;

  it('each downloaded layout imports again and generates the image the original import does', { timeout: 300_000 }, async () => {
    const original = await importFile(fluxMiniLoraFile(8, 3, 2), 'e2e lora');
    const base = await sample('/v1/flux-pro', common);
    const withLora = await sample('/v1/flux-pro-finetuned', { ...common, finetune_id: original, finetune_strength: 1 });
    assert.ok(meanAbsDiff(withLora, base) > 1, `the imported LoRA changes the image (mean abs diff ${meanAbsDiff(withLora, base).toFixed(2)})`);

    for (const [format, dtype] of [
      ['comfyui', 'fp32'],
      ['diffusers', 'fp32'],
      ['bfl', 'fp32'],
      ['comfyui', 'bf16'],
    ] as const) {
      const res = await fetch(`${server.url}/v1/finetune_weights?finetune_id=${original}&format=${format}&dtype=${dtype}`, { headers: { 'x-key': KEY_A } });
      assert.equal(res.status, 200);
      const again = await importFile(new Uint8Array(await res.arrayBuffer()), `${format} ${dtype}`);
      const image = await sample('/v1/flux-pro-finetuned', { ...common, finetune_id: again, finetune_strength: 1 });
      if (dtype === 'fp32') assert.deepEqual(image, withLora, `${format}/${dtype}: the same image`);
      else assert.ok(meanAbsDiff(image, withLora) < 0.5, `${format}/${dtype}: mean abs diff ${meanAbsDiff(image, withLora).toFixed(2)}`);
    }
  });
});
