// finetune_details.training (phase, steps, loss curve, ETA, previews) and .generations over HTTP, with
// the test-double backend; and the pure rendering of the training view (phases, resumed runs, ETA).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UrlSigner } from '../../src/service/signed-urls.ts';
import type { FinetuneWithStatus } from '../../src/service/tasks/finetune-store.ts';
import { renderTraining } from '../../src/service/tasks/training-view.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

describe('finetune_details: training and generations over HTTP', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  const backend = new DeterministicTestBackend({ steps: 8, checkpointEvery: 4 });
  before(async () => {
    server = await startTestServer({ backend });
    api = apiClient(server.url, KEY_A);
  });
  after(() => server.stop());

  it('lists the loss of every step, the previews as fetchable signed URLs, and each generation with its parameters', async () => {
    const zip = b64(await buildZip([{ name: 'a.png', data: await solidPng(32, 32) }]));
    const submitted = await api.post('/v1/finetune', { file_data: zip, finetune_comment: 'view', mode: 'general', iterations: 100 });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const id = submitted.body.finetune_id as string;
    const first = await api.get(`/v1/finetune_details?finetune_id=${id}`);
    assert.ok(['queued', 'captioning', 'training', 'saving', 'ready'].includes(first.body.finetune_details.training.phase));

    const phases = new Set<string>();
    const done = await waitUntil(async () => {
      const polled = await api.get(`/v1/get_result?id=${id}`);
      phases.add(String(polled.body.phase));
      const r = await api.get(`/v1/finetune_details?finetune_id=${id}`);
      return r.body.finetune_details.status === 'Ready' ? r.body.finetune_details : null;
    });
    // get_result names what the worker does while Pending (this double trains a LoRA: no extraction), and nothing after.
    for (const p of phases) assert.ok(['queued', 'captioning', 'training', 'saving', 'null'].includes(p), `phase ${p}`);
    // get_result is served from a cache at most FLUXTUNE_RESULT_CACHE_MS (100 ms) stale, so it may trail
    // finetune_details by that much; once it reports Ready it names no phase.
    const ready = await waitUntil(async () => {
      const body = (await api.get(`/v1/get_result?id=${id}`)).body;
      return body.status === 'Ready' ? body : null;
    });
    assert.equal(ready.phase, null);
    const t = done.training;
    assert.equal(t.phase, 'ready');
    assert.equal(t.step, 100, 'a Ready finetune has done all its steps');
    assert.equal(t.total_steps, 100);
    assert.equal(t.eta_seconds, null);
    // The double reports steps 1..8 with loss 1/step; the last report is flushed before Ready.
    assert.deepEqual(
      t.loss,
      Array.from({ length: 8 }, (_, i) => [i + 1, 1 / (i + 1)]),
    );
    assert.deepEqual(
      t.previews.map((p: { step: number }) => p.step),
      [4],
    );
    const png = await fetch(t.previews[0].url);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    // The step is signed: the same signature for another step is refused.
    assert.equal((await fetch(t.previews[0].url.replace('step=4', 'step=2'))).status, 403);

    const gen = await api.post('/v1/flux-pro-finetuned', {
      finetune_id: id,
      prompt: 'TOK on a hill',
      width: 256,
      height: 256,
      seed: 7,
      finetune_strength: 0.8,
    });
    assert.equal(gen.status, 200, JSON.stringify(gen.body));
    await api.post('/v1/flux-pro', { prompt: 'no finetune', width: 256, height: 256 });
    const listed = await waitUntil(async () => {
      const r = await api.get(`/v1/finetune_details?finetune_id=${id}`);
      const g = r.body.finetune_details.generations;
      return g.length === 1 && g[0].status === 'Ready' ? g : null;
    });
    assert.equal(listed[0].id, gen.body.id);
    assert.equal(listed[0].endpoint, 'flux-pro-finetuned');
    assert.deepEqual(
      { ...listed[0].params, safety_tolerance: undefined, prompt_upsampling: undefined },
      {
        prompt: 'TOK on a hill',
        seed: 7,
        width: 256,
        height: 256,
        steps: 40,
        guidance: 2.5,
        output_format: 'jpeg',
        finetune_id: id,
        finetune_strength: 0.8,
        safety_tolerance: undefined,
        prompt_upsampling: undefined,
      },
    );
    assert.equal((await fetch(listed[0].sample)).status, 200);
  });
});

describe('renderTraining', () => {
  const signer = new UrlSigner(Buffer.alloc(32, 1), 600);
  const ft = (o: Partial<FinetuneWithStatus>): FinetuneWithStatus =>
    ({
      id: '00000000-0000-4000-8000-000000000001',
      iterations: 100,
      status: 'Pending',
      job_state: 'running',
      captions: [],
      loss_log: [],
      previews: [],
      ...o,
    }) as FinetuneWithStatus;

  it('names the phase from the task, its job and its captions', () => {
    assert.equal(renderTraining(ft({ job_state: 'queued' }), signer, 'http://h').phase, 'queued');
    assert.equal(renderTraining(ft({ captions: null }), signer, 'http://h').phase, 'captioning');
    assert.equal(renderTraining(ft({}), signer, 'http://h').phase, 'training');
    assert.equal(renderTraining(ft({ loss_log: [[100, 0.1, 5]] }), signer, 'http://h').phase, 'saving');
    assert.equal(renderTraining(ft({ loss_log: [[100, 0.1, 5]], finetune_type: 'full' }), signer, 'http://h').phase, 'extracting');
    assert.equal(renderTraining(ft({ phase: 'extracting', loss_log: [[100, 0.1, 5]] }), signer, 'http://h').phase, 'extracting', "the worker's word wins");
    assert.equal(renderTraining(ft({ phase: 'saving', loss_log: [[100, 0.1, 5]], finetune_type: 'full' }), signer, 'http://h').phase, 'saving');
    assert.equal(renderTraining(ft({ phase: 'captioning', captions: null }), signer, 'http://h').phase, 'captioning');
    assert.equal(renderTraining(ft({ status: 'Ready', job_state: 'done' }), signer, 'http://h').phase, 'ready');
    assert.equal(renderTraining(ft({ status: 'Error', job_state: 'failed' }), signer, 'http://h').phase, 'failed');
  });

  it('keeps the last report of a step a resumed run repeated, in step order', () => {
    const v = renderTraining(
      ft({
        loss_log: [
          [1, 0.9, 1000],
          [2, 0.8, 2000],
          [3, 0.7, 3000],
          [2, 0.75, 9000],
          [3, 0.65, 10_000],
        ],
      }),
      signer,
      'http://h',
      10_000,
    );
    assert.deepEqual(v.loss, [
      [1, 0.9],
      [2, 0.75],
      [3, 0.65],
    ]);
    assert.equal(v.step, 3);
  });

  it('estimates the time left from the recent pace, less the time since the last step', () => {
    // 40 steps one second apart: 60 steps left at 1 s each, the last one reported 5 s ago.
    const loss_log = Array.from({ length: 40 }, (_, i) => [i + 1, 1, (i + 1) * 1000] as [number, number, number]);
    assert.equal(renderTraining(ft({ loss_log }), signer, 'http://h', 45_000).eta_seconds, 55);
    assert.equal(renderTraining(ft({ loss_log: loss_log.slice(0, 1) }), signer, 'http://h', 2000).eta_seconds, null);
  });

  it('signs each preview with its step, one per step, in order', () => {
    const v = renderTraining(
      ft({
        previews: [
          { step: 50, blob: 'b50' },
          { step: 25, blob: 'b25' },
          { step: 25, blob: 'b25' },
        ],
      }),
      signer,
      'http://h',
      0,
    );
    assert.deepEqual(
      v.previews.map((p) => p.step),
      [25, 50],
    );
    assert.match(v.previews[0]!.url, /^http:\/\/h\/v1\/files\/preview\/0{8}-0{4}-4000-8000-0{11}1\?step=25&exp=600&sig=/);
    assert.equal(signer.verify('preview', ft({}).id, '600', new URL(v.previews[0]!.url).searchParams.get('sig')!, 0, 25), 'ok');
    assert.equal(signer.verify('preview', ft({}).id, '600', new URL(v.previews[0]!.url).searchParams.get('sig')!, 0), 'invalid');
  });
});
