// The six structural routes (issue 11) over HTTP with a recording test double: what each accepts and
// stores, every refusal (a 422 naming the field, nothing stored), the finetune guards, and the
// StructuralControl the job hands the backend (thresholds, preprocessed flag, fill mask from an explicit
// mask or from the alpha channel, images at the output size, > 1 MP inputs scaled down).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { INFERENCE_ENDPOINTS } from '../../src/api/inference-schemas.ts';
import type { GenerateRequest, StructuralControl } from '../../src/model/backend.ts';
import { createApiKey } from '../../src/service/auth/api-keys.ts';
import type { GenerationInput } from '../../src/service/tasks/generation-input.ts';
import { getTaskById } from '../../src/service/tasks/task-store.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------- images

/** RGB pixels that differ everywhere (a mix-up of rows, columns or channels shows). */
function gradient(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 7) % 256;
      data[i + 1] = (y * 5) % 256;
      data[i + 2] = (x + y * 3) % 256;
    }
  }
  return data;
}

const rgbPng = (width: number, height: number, data = gradient(width, height)) =>
  sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

/** One byte per pixel from f(x, y). */
function plane(width: number, height: number, f: (x: number, y: number) => number): Buffer {
  const out = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = f(x, y);
  return out;
}

/** RGBA PNG: the gradient, with the alpha plane given. */
async function rgbaPng(width: number, height: number, alpha: Buffer): Promise<Buffer> {
  const rgb = gradient(width, height);
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = rgb[i * 3]!;
    data[i * 4 + 1] = rgb[i * 3 + 1]!;
    data[i * 4 + 2] = rgb[i * 3 + 2]!;
    data[i * 4 + 3] = alpha[i]!;
  }
  return sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** A greyscale + alpha PNG (colour type 4, as GIMP exports one): two bands, not four. */
async function greyAlphaPng(width: number, height: number, alpha: Buffer): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 2);
  for (let i = 0; i < width * height; i++) {
    data[i * 2] = 128;
    data[i * 2 + 1] = alpha[i]!;
  }
  const png = await sharp(data, { raw: { width, height, channels: 2 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.channels, meta.hasAlpha], [2, true], 'the fixture is a two-band PNG');
  return png;
}

/** A greyscale PNG of the plane (the mask a user draws). */
const greyPng = (width: number, height: number, values: Buffer) =>
  sharp(values, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();

const pixels = async (png: Buffer) => new Uint8Array(await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer());
const base64 = (bytes: Buffer) => bytes.toString('base64');
const GIF_1x1 = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

// ---------------------------------------------------------------- the server

async function datasetZip(): Promise<string> {
  return b64(await buildZip([{ name: 'a.png', data: await solidPng(32, 32, [40, 90, 200]) }]));
}

describe('structural endpoints over HTTP (recording test double)', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let finetuneId: string;
  const backend = new DeterministicTestBackend({ steps: 2 });
  let seed = 1000;

  before(async () => {
    server = await startTestServer({ backend });
    api = apiClient(server.url, KEY_A);
    finetuneId = (await api.post('/v1/finetune', { file_data: await datasetZip(), finetune_comment: 'blue', mode: 'product' })).body.finetune_id;
    await waitUntil(async () => (await api.get(`/v1/get_result?id=${finetuneId}`)).body.status === 'Ready');
  });
  after(() => server.stop());

  async function counts(): Promise<{ tasks: number; taskBlobs: number }> {
    const tasks = (await server.db.query<{ n: number }>('select count(*)::int as n from tasks')).rows[0]!.n;
    return { tasks, taskBlobs: (await server.blobs.listChildren('tasks')).length };
  }

  /** Submits, waits for Ready; the stored input, the request the backend got, and the sample's pixels and size. */
  async function run(route: string, body: Record<string, unknown>) {
    const s = seed++;
    const sub = await api.post(`/v1/${route}`, { seed: s, output_format: 'png', ...body });
    assert.equal(sub.status, 200, `${route}: ${JSON.stringify(sub.body)}`);
    assert.match(sub.body.id, UUID);
    assert.equal(sub.body.polling_url, `${server.url}/v1/get_result?id=${sub.body.id}`);
    const task = await getTaskById(server.db, sub.body.id);
    const input = task!.input as unknown as GenerationInput;
    const done = await waitUntil(async () => {
      const r = await api.get(`/v1/get_result?id=${sub.body.id}`);
      assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
      return r.body.status === 'Ready' && r.body;
    });
    const request = backend.log.generates.find((g) => g.seed === s)!;
    assert.ok(request, 'the backend was called');
    const sample = Buffer.from(await (await fetch(done.result.sample)).arrayBuffer());
    const meta = await sharp(sample).metadata();
    return { id: sub.body.id as string, input, request, control: request.control!, sample: { width: meta.width, height: meta.height } };
  }

  async function refused(route: string, body: Record<string, unknown>): Promise<{ type: string; loc: (string | number)[]; msg: string }[]> {
    const before = await counts();
    const r = await api.post(`/v1/${route}`, body);
    assert.equal(r.status, 422, `${route}: ${JSON.stringify(r.body)}`);
    assert.ok(Array.isArray(r.body.detail), JSON.stringify(r.body));
    assert.deepEqual(await counts(), before, `${route}: a refused request stores no task and no blob`);
    return r.body.detail;
  }

  it('403 on each without or with a wrong x-key', async () => {
    for (const key of [undefined, 'wrong']) {
      for (const route of Object.keys(INFERENCE_ENDPOINTS).filter((e) => e.includes('-1.0-'))) {
        const r = await apiClient(server.url, key).post(`/v1/${route}`, {});
        assert.deepEqual([r.status, r.body], [403, { detail: 'Not authenticated - Invalid Authentication' }], route);
      }
    }
  });

  it('every route accepts a valid request: 200 id + polling_url, the task records its input, the sample has the image size', async () => {
    const png = base64(await rgbPng(64, 48));
    const mask = base64(
      await greyPng(
        64,
        48,
        plane(64, 48, (x) => (x < 32 ? 255 : 0)),
      ),
    );
    const ft = { finetune_id: finetuneId };
    const cases: [string, Record<string, unknown>, Partial<GenerationInput>][] = [
      [
        'flux-pro-1.0-canny',
        { prompt: 'edges', control_image: png },
        { guidance: 30, control_kind: 'canny', canny_low_threshold: 50, canny_high_threshold: 200 },
      ],
      ['flux-pro-1.0-canny-finetuned', { ...ft, prompt: 'edges', control_image: png }, { guidance: 30, control_kind: 'canny', finetune_strength: 1.1 }],
      ['flux-pro-1.0-depth', { prompt: 'depth', preprocessed_image: png }, { guidance: 15, control_kind: 'depth', preprocessed: true }],
      ['flux-pro-1.0-depth-finetuned', { ...ft, prompt: 'depth', control_image: png }, { guidance: 15, control_kind: 'depth', finetune_strength: 1.1 }],
      ['flux-pro-1.0-fill', { image: png, mask }, { guidance: 60, control_kind: 'fill', prompt: '' }],
      ['flux-pro-1.0-fill-finetuned', { ...ft, image: png, mask, finetune_strength: 0.7 }, { guidance: 60, control_kind: 'fill', finetune_strength: 0.7 }],
    ];
    for (const [route, body, expected] of cases) {
      const { id, input, request, sample } = await run(route, body);
      assert.equal(input.endpoint, route);
      assert.deepEqual([input.width, input.height, input.steps], [64, 48, 50], route);
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(input[k as keyof GenerationInput], v, `${route}: ${k}`);
      assert.equal(input.safety_tolerance, 2);
      assert.equal(input.prompt_upsampling, false);
      // The images sit under the task's prefix (deleting the task deletes them), never in the task row.
      assert.equal(input.control_blob, `tasks/${id}/control.png`);
      assert.equal(input.mask_blob, route.includes('fill') ? `tasks/${id}/mask.png` : undefined);
      assert.ok(await server.blobs.has(input.control_blob!));
      assert.doesNotMatch(JSON.stringify(input), /iVBOR/, 'no base64 image in the stored input');
      assert.equal(request.lora ? request.lora.strength : undefined, route.endsWith('-finetuned') ? (expected.finetune_strength ?? 1.1) : undefined);
      assert.deepEqual([request.width, request.height, request.steps, request.guidance], [64, 48, 50, expected.guidance]);
      assert.deepEqual(sample, { width: 64, height: 48 }, route);
    }
  });

  it('prompt_upsampling and safety_tolerance are accepted and recorded', async () => {
    const { input } = await run('flux-pro-1.0-depth', {
      prompt: 'x',
      control_image: base64(await rgbPng(32, 32)),
      prompt_upsampling: true,
      safety_tolerance: 5,
    });
    assert.deepEqual([input.prompt_upsampling, input.safety_tolerance], [true, 5]);
  });

  it('canny: thresholds and the preprocessed flag reach the backend, the image at the output size, pixel for pixel', async () => {
    const source = await rgbPng(40, 30);
    const want = await pixels(source);
    const a = await run('flux-pro-1.0-canny', { prompt: 'x', control_image: base64(source), canny_low_threshold: 10, canny_high_threshold: 90 });
    assert.equal(a.control.kind, 'canny');
    const c = a.control as Extract<StructuralControl, { kind: 'canny' }>;
    assert.deepEqual([c.preprocessed, c.lowThreshold, c.highThreshold], [false, 10, 90]);
    assert.deepEqual([c.image.width, c.image.height], [40, 30]);
    assert.deepEqual(c.image.data, want);

    // Equal thresholds are allowed; the preprocessed map wins over control_image when both come.
    const other = await rgbPng(40, 30, Buffer.alloc(40 * 30 * 3, 77));
    const b = await run('flux-pro-1.0-canny', {
      prompt: 'x',
      control_image: base64(source),
      preprocessed_image: base64(other),
      canny_low_threshold: 120,
      canny_high_threshold: 120,
    });
    const bc = b.control as Extract<StructuralControl, { kind: 'canny' }>;
    assert.deepEqual([bc.preprocessed, bc.lowThreshold, bc.highThreshold], [true, 120, 120]);
    assert.ok(
      bc.image.data.every((v) => v === 77),
      'the preprocessed image is the one used',
    );

    const f = await run('flux-pro-1.0-canny-finetuned', { finetune_id: finetuneId, prompt: 'x', control_image: `data:image/png;base64,${base64(source)}` });
    const fc = f.control as Extract<StructuralControl, { kind: 'canny' }>;
    assert.deepEqual([fc.preprocessed, fc.lowThreshold, fc.highThreshold], [false, 50, 200]);
    assert.deepEqual(fc.image.data, want, 'a data: prefix is tolerated');
  });

  it('depth: preprocessed_image on the -finetuned route is accepted and ignored (its schema has no such field)', async () => {
    const source = await rgbPng(24, 40);
    const other = await rgbPng(24, 40, Buffer.alloc(24 * 40 * 3, 5));
    const r = await run('flux-pro-1.0-depth-finetuned', {
      finetune_id: finetuneId,
      prompt: 'x',
      control_image: base64(source),
      preprocessed_image: base64(other),
    });
    assert.deepEqual(r.control, { kind: 'depth', preprocessed: false, image: { width: 24, height: 40, data: await pixels(source) } });
    assert.equal(r.input.preprocessed, false);
  });

  it('fill: an explicit mask is passed as it is drawn (white = repaint)', async () => {
    const values = plane(50, 20, (x, y) => (x * 5 + y) % 256);
    const r = await run('flux-pro-1.0-fill', { prompt: 'cherries', image: base64(await rgbPng(50, 20)), mask: base64(await greyPng(50, 20, values)) });
    const c = r.control as Extract<StructuralControl, { kind: 'fill' }>;
    assert.equal(c.kind, 'fill');
    assert.deepEqual([c.image.width, c.image.height, c.mask.length], [50, 20, 50 * 20]);
    assert.deepEqual(c.image.data, await pixels(await rgbPng(50, 20)));
    assert.deepEqual(Buffer.from(c.mask), values);

    // An RGB mask counts by its luminance: white and black stay 255 and 0.
    const rgbMask = await rgbPng(50, 20, Buffer.concat([Buffer.alloc(25 * 20 * 3, 255), Buffer.alloc(25 * 20 * 3, 0)]));
    const rgb = await run('flux-pro-1.0-fill', { image: base64(await rgbPng(50, 20)), mask: base64(rgbMask) });
    const m = (rgb.control as Extract<StructuralControl, { kind: 'fill' }>).mask;
    assert.deepEqual([m[0], m[m.length - 1]], [255, 0]);
  });

  it('fill: without a mask the alpha channel is the mask (255 − alpha), for RGBA and grey+alpha PNGs; an explicit mask wins over it', async () => {
    const alpha = plane(30, 20, (x, y) => (x < 10 ? 0 : x < 20 ? 100 + y : 255));
    const want = Buffer.from(alpha.map((a) => 255 - a));
    for (const image of [await rgbaPng(30, 20, alpha), await greyAlphaPng(30, 20, alpha)]) {
      const r = await run('flux-pro-1.0-fill-finetuned', { finetune_id: finetuneId, image: base64(image) });
      const c = r.control as Extract<StructuralControl, { kind: 'fill' }>;
      assert.deepEqual(Buffer.from(c.mask), want);
      assert.deepEqual([c.image.width, c.image.height], [30, 20]);
    }
    const explicit = plane(30, 20, (x) => (x % 2 ? 255 : 0));
    const r = await run('flux-pro-1.0-fill', { image: base64(await rgbaPng(30, 20, alpha)), mask: base64(await greyPng(30, 20, explicit)) });
    assert.deepEqual(Buffer.from((r.control as Extract<StructuralControl, { kind: 'fill' }>).mask), explicit);
  });

  it('an input above 1 MP is scaled down to at most 1 MP, aspect ratio kept: the output, the control image and the mask', async () => {
    const big = base64(await rgbPng(1600, 1200));
    const c = await run('flux-pro-1.0-canny', { prompt: 'x', control_image: big });
    const { width, height } = c.input;
    assert.ok(width * height <= 1024 * 1024, `${width}×${height}`);
    assert.ok(width * height > 0.99 * 1024 * 1024, `${width}×${height} is about 1 MP`);
    assert.ok(Math.abs(width / height - 4 / 3) < 0.01, `${width}×${height} keeps 4:3`);
    assert.deepEqual([c.control.image.width, c.control.image.height], [width, height]);
    assert.deepEqual(c.sample, { width, height });

    const mask = base64(
      await greyPng(
        1600,
        1200,
        plane(1600, 1200, (x) => (x < 800 ? 255 : 0)),
      ),
    );
    const f = await run('flux-pro-1.0-fill', { image: big, mask });
    const fc = f.control as Extract<StructuralControl, { kind: 'fill' }>;
    assert.deepEqual([fc.image.width, fc.image.height, fc.mask.length], [width, height, width * height]);
    assert.deepEqual([fc.mask[0], fc.mask[width - 1]], [255, 0], 'the mask is scaled with the image');
  });

  it('422s name the field and store nothing', async () => {
    const png = base64(await rgbPng(16, 16));
    const ft = { finetune_id: finetuneId };
    const locs = (d: { loc: (string | number)[] }[]) => d.map((e) => e.loc.join('.')).sort();

    // Neither control_image nor preprocessed_image: one entry for each, each message naming both.
    for (const route of ['flux-pro-1.0-canny', 'flux-pro-1.0-depth']) {
      const d = await refused(route, { prompt: 'x', control_image: null });
      assert.deepEqual(locs(d), ['body.control_image', 'body.preprocessed_image']);
      for (const e of d) {
        assert.equal(e.type, 'value_error');
        assert.match(e.msg, /control_image.*preprocessed_image/);
      }
    }
    // Required fields of the -finetuned routes and of fill, and canny's prompt.
    assert.deepEqual(
      (await refused('flux-pro-1.0-canny-finetuned', { ...ft, prompt: 'x', preprocessed_image: png })).map((e) => [e.type, e.loc.join('.')]),
      [['missing', 'body.control_image']],
    );
    assert.deepEqual(
      (await refused('flux-pro-1.0-fill', { mask: png })).map((e) => [e.type, e.loc.join('.')]),
      [['missing', 'body.image']],
    );
    assert.deepEqual(
      (await refused('flux-pro-1.0-canny', { control_image: png })).map((e) => [e.type, e.loc.join('.')]),
      [['missing', 'body.prompt']],
    );

    // Undecodable images, each at its own field.
    const undecodable: [string, Record<string, unknown>, string][] = [
      ['flux-pro-1.0-canny', { prompt: 'x', control_image: base64(Buffer.from('not an image at all')) }, 'control_image'],
      ['flux-pro-1.0-canny', { prompt: 'x', control_image: '%%% not base64 %%%' }, 'control_image'],
      ['flux-pro-1.0-depth', { prompt: 'x', preprocessed_image: base64(GIF_1x1) }, 'preprocessed_image'],
      ['flux-pro-1.0-depth-finetuned', { ...ft, prompt: 'x', control_image: '' }, 'control_image'],
      ['flux-pro-1.0-fill', { image: base64(Buffer.from('nope')), mask: png }, 'image'],
      ['flux-pro-1.0-fill-finetuned', { ...ft, image: png, mask: base64(Buffer.from('nope')) }, 'mask'],
    ];
    for (const [route, body, field] of undecodable) {
      const d = await refused(route, body);
      assert.deepEqual(
        d.map((e) => [e.type, e.loc.join('.')]),
        [['value_error', `body.${field}`]],
        `${route} ${field}`,
      );
      assert.ok(d[0]!.msg.includes(field), d[0]!.msg);
    }
    const gif = await refused('flux-pro-1.0-canny', { prompt: 'x', control_image: base64(GIF_1x1) });
    assert.match(gif[0]!.msg, /not a JPG, PNG or WebP image \(its content is gif\)/);

    // A mask of another size than the image.
    const wrongSize = await refused('flux-pro-1.0-fill', { image: png, mask: base64(await greyPng(16, 8, Buffer.alloc(128, 255))) });
    assert.deepEqual(
      wrongSize.map((e) => e.loc.join('.')),
      ['body.mask'],
    );
    assert.match(wrongSize[0]!.msg, /mask is 16×8 but image is 16×16/);

    // Nothing to repaint: no mask, and no alpha channel or one that is opaque everywhere.
    const noAlpha = await refused('flux-pro-1.0-fill', { image: png });
    assert.deepEqual(
      noAlpha.map((e) => e.loc.join('.')),
      ['body.mask'],
    );
    assert.match(noAlpha[0]!.msg, /send a mask, or an image whose alpha channel is transparent where to repaint: this image has no alpha channel/);
    const opaque = await refused('flux-pro-1.0-fill-finetuned', { ...ft, image: base64(await rgbaPng(16, 16, Buffer.alloc(256, 255))) });
    assert.match(opaque[0]!.msg, /opaque everywhere/);

    // canny_low_threshold above canny_high_threshold.
    for (const route of ['flux-pro-1.0-canny', 'flux-pro-1.0-canny-finetuned']) {
      const d = await refused(route, { ...ft, prompt: 'x', control_image: png, canny_low_threshold: 201 });
      assert.deepEqual(
        d.map((e) => [e.type, e.loc.join('.')]),
        [['value_error', 'body.canny_low_threshold']],
      );
      assert.match(d[0]!.msg, /canny_low_threshold \(201\) must not be above canny_high_threshold \(200\)/);
    }

    // Ranges, per BFL's OpenAPI.
    const ranges: [string, Record<string, unknown>, string, string][] = [
      ['flux-pro-1.0-canny', { steps: 14 }, 'steps', 'greater_than_equal'],
      ['flux-pro-1.0-depth-finetuned', { steps: 51 }, 'steps', 'less_than_equal'],
      ['flux-pro-1.0-canny', { guidance: 0.5 }, 'guidance', 'greater_than_equal'],
      ['flux-pro-1.0-fill', { guidance: 1.2 }, 'guidance', 'greater_than_equal'],
      ['flux-pro-1.0-fill-finetuned', { guidance: 100.5 }, 'guidance', 'less_than_equal'],
      ['flux-pro-1.0-canny-finetuned', { canny_high_threshold: 501 }, 'canny_high_threshold', 'less_than_equal'],
      ['flux-pro-1.0-canny', { canny_low_threshold: -1 }, 'canny_low_threshold', 'greater_than_equal'],
      ['flux-pro-1.0-depth-finetuned', { finetune_strength: 2.5 }, 'finetune_strength', 'less_than_equal'],
      ['flux-pro-1.0-fill', { output_format: 'gif' }, 'output_format', 'enum'],
    ];
    for (const [route, extra, field, type] of ranges) {
      const d = await refused(route, { ...ft, prompt: 'x', control_image: png, image: png, ...extra });
      assert.deepEqual(
        d.map((e) => [e.type, e.loc.join('.')]),
        [[type, `body.${field}`]],
        `${route} ${JSON.stringify(extra)}`,
      );
    }
  });

  it("-finetuned routes: an unknown or another key's finetune is 404, before any image is looked at", async () => {
    const png = base64(await rgbPng(16, 16));
    const other = apiClient(server.url, (await createApiKey(server.db, 'other')).key);
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const route of ['flux-pro-1.0-canny-finetuned', 'flux-pro-1.0-depth-finetuned', 'flux-pro-1.0-fill-finetuned']) {
      const body = { prompt: 'x', control_image: png, image: png, mask: png };
      const before = await counts();
      for (const [client, id] of [
        [api, unknown],
        [other, finetuneId],
      ] as const) {
        const r = await client.post(`/v1/${route}`, { ...body, finetune_id: id });
        assert.deepEqual([r.status, r.body], [404, { detail: 'Finetune not found or access denied' }], `${route} ${id}`);
      }
      const r = await api.post(`/v1/${route}`, { ...body, control_image: 'garbage', image: 'garbage', finetune_id: unknown });
      assert.equal(r.status, 404);
      assert.deepEqual(await counts(), before);
    }
  });

  it('the job passes no control on the other routes', async () => {
    const s = seed++;
    const r = await api.post('/v1/flux-pro', { prompt: 'x', seed: s, width: 256, height: 256 });
    await waitUntil(async () => (await api.get(`/v1/get_result?id=${r.body.id}`)).body.status === 'Ready');
    const request: GenerateRequest = backend.log.generates.find((g) => g.seed === s)!;
    assert.equal(request.control, undefined);
  });

  it("the dashboard's generate panel offers every generation route and the structural inputs", async () => {
    // The page is a bundle (web/src/generate-panel.tsx): its route list and field names survive minification as strings.
    const js = await (await fetch(`${server.url}/assets/app.js`)).text();
    const offered = Object.keys(INFERENCE_ENDPOINTS).filter((route) => js.includes(`"${route}"`));
    assert.deepEqual(offered.sort(), Object.keys(INFERENCE_ENDPOINTS).sort());
    for (const field of ['control_image', 'preprocessed_image', 'canny_low_threshold', 'canny_high_threshold', 'mask']) assert.ok(js.includes(field), field);
  });
});

describe('structural -finetuned routes without a worker: a finetune that is not Ready', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('is a 400 "Finetune not ready" on each, storing nothing', async () => {
    const api = apiClient(server.url, KEY_A);
    const pending = (await api.post('/v1/finetune', { file_data: await datasetZip(), finetune_comment: 'p', mode: 'style' })).body.finetune_id;
    const png = base64(await rgbPng(16, 16));
    const tasks = async () => (await server.db.query<{ n: number }>('select count(*)::int as n from tasks')).rows[0]!.n;
    const before = await tasks();
    for (const route of ['flux-pro-1.0-canny-finetuned', 'flux-pro-1.0-depth-finetuned', 'flux-pro-1.0-fill-finetuned']) {
      const r = await api.post(`/v1/${route}`, { finetune_id: pending, prompt: 'x', control_image: png, image: png, mask: png });
      assert.deepEqual([r.status, r.body], [400, { detail: 'Finetune not ready' }], route);
    }
    assert.equal(await tasks(), before);
    assert.deepEqual(
      (await server.blobs.listChildren('tasks')).map((c) => c.name),
      [],
    );
  });
});
