// `fluxtune generate` on the structural routes: image files read and sent as base64 under their API
// names, --finetune-id or the first argument, base routes without a finetune, and the usage errors
// (exit 2, nothing sent) for a flag the endpoint lacks, a missing or superfluous finetune id, an
// unknown endpoint and an unreadable file. Also: every flag maps to a field some route has.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { INFERENCE_ENDPOINTS } from '../../src/api/inference-schemas.ts';
import { COMMANDS, GENERATE_ENDPOINTS, GENERATE_FIELDS } from '../../src/client/cli-spec.ts';
import type { StructuralControl } from '../../src/model/backend.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from '../service/support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from '../service/support/harness.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;

describe('CLI: the structural routes', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let finetuneId: string;
  let dir: string;
  const backend = new DeterministicTestBackend({ steps: 2 });
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', CLI, ...args], { env });
  const fails = (...args: string[]) =>
    cli(...args).then(
      () => assert.fail(`fluxtune ${args.join(' ')} succeeded`),
      (e: { code: number; stderr: string }) => e,
    );
  const tasks = async () => (await server.db.query<{ n: number }>('select count(*)::int as n from tasks')).rows[0]!.n;

  before(async () => {
    server = await startTestServer({ backend });
    env = { ...process.env, BFL_API_KEY: KEY_A, FLUXTUNE_URL: server.url };
    const api = apiClient(server.url, KEY_A);
    finetuneId = (
      await api.post('/v1/finetune', {
        file_data: b64(await buildZip([{ name: 'a.png', data: await solidPng(16, 16) }])),
        finetune_comment: 'c',
        mode: 'product',
      })
    ).body.finetune_id;
    await waitUntil(async () => (await api.get(`/v1/get_result?id=${finetuneId}`)).body.status === 'Ready');
    dir = await mkdtemp(join(tmpdir(), 'fluxtune-cli-structural-'));
    await writeFile(
      join(dir, 'photo.png'),
      await sharp({ create: { width: 48, height: 32, channels: 3, background: '#3366cc' } })
        .png()
        .toBuffer(),
    );
    await writeFile(
      join(dir, 'mask.png'),
      await sharp({ create: { width: 48, height: 32, channels: 3, background: '#ffffff' } })
        .png()
        .toBuffer(),
    );
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const controlOf = (seed: number) => backend.log.generates.find((g) => g.seed === seed)?.control as StructuralControl;

  it('canny-finetuned with --finetune-id, --control-image and --canny-low/--canny-high, waited for and saved', async () => {
    const out = join(dir, 'canny.png');
    const { stdout } = await cli(
      'generate',
      '--endpoint',
      'flux-pro-1.0-canny-finetuned',
      '--finetune-id',
      finetuneId,
      '--prompt',
      'edges',
      '--control-image',
      join(dir, 'photo.png'),
      '--canny-low',
      '20',
      '--canny-high',
      '120',
      '--steps',
      '15',
      '--seed',
      '501',
      '--output-format',
      'png',
      '--out',
      out,
      '--json',
    );
    assert.equal(JSON.parse(stdout).status, 'Ready');
    const c = controlOf(501);
    assert.deepEqual(c.kind === 'canny' && [c.lowThreshold, c.highThreshold, c.preprocessed, c.image.width, c.image.height], [20, 120, false, 48, 32]);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 48, 32]);
  });

  it('base routes take no finetune: depth with --preprocessed-image, fill with --image and --mask (the id as first argument on -finetuned)', async () => {
    await cli('generate', '--endpoint', 'flux-pro-1.0-depth', '--prompt', 'x', '--preprocessed-image', join(dir, 'photo.png'), '--seed', '502', '--wait');
    const d = controlOf(502);
    assert.deepEqual(d.kind === 'depth' && d.preprocessed, true);
    await cli(
      'generate',
      finetuneId,
      '--endpoint',
      'flux-pro-1.0-fill-finetuned',
      '--image',
      join(dir, 'photo.png'),
      '--mask',
      join(dir, 'mask.png'),
      '--seed',
      '503',
      '--wait',
    );
    const f = controlOf(503);
    assert.ok(f.kind === 'fill' && f.mask.every((v) => v === 255));
  });

  it('usage errors exit 2 and send nothing', async () => {
    const before = await tasks();
    const photo = join(dir, 'photo.png');
    const cases: [string[], RegExp][] = [
      [
        ['generate', finetuneId, '--endpoint', 'flux-pro-1.0-depth-finetuned', '--prompt', 'x', '--control-image', photo, '--canny-low', '10'],
        /--canny-low does not apply to flux-pro-1\.0-depth-finetuned \(it has no canny_low_threshold/,
      ],
      [['generate', '--endpoint', 'flux-pro-1.0-canny-finetuned', '--prompt', 'x', '--control-image', photo], /usage: fluxtune generate <finetune_id>/],
      [
        ['generate', finetuneId, '--endpoint', 'flux-pro-1.0-canny', '--prompt', 'x'],
        /flux-pro-1\.0-canny takes no finetune: .* --endpoint flux-pro-1\.0-canny-finetuned/,
      ],
      [['generate', '--endpoint', 'flux-pro-1.0-cany', '--prompt', 'x'], /unknown endpoint 'flux-pro-1\.0-cany'; did you mean 'flux-pro-1\.0-canny'\?/],
      [['generate', '--endpoint', 'flux-pro-1.0-fill', '--image', join(dir, 'nope.png')], /--image: cannot read .*nope\.png \(ENOENT\)/],
      [
        ['generate', finetuneId, '--endpoint', 'flux-pro-1.0-fill-finetuned', '--image', photo, '--width', '512'],
        /--width does not apply to flux-pro-1\.0-fill-finetuned/,
      ],
    ];
    for (const [args, message] of cases) {
      const e = await fails(...args);
      assert.equal(e.code, 2, args.join(' '));
      assert.match(e.stderr, message);
    }
    assert.equal(await tasks(), before);
  });

  it("the server's 422 is printed per field and exits 1", async () => {
    const e = await fails('generate', '--endpoint', 'flux-pro-1.0-canny', '--prompt', 'x');
    assert.equal(e.code, 1);
    assert.match(e.stderr, /body\.control_image: Value error, send control_image .* or preprocessed_image/);
    assert.match(e.stderr, /body\.preprocessed_image: /);
  });

  it('generate --help lists every endpoint and the structural flags', async () => {
    const help = (await cli('generate', '--help')).stdout;
    for (const e of GENERATE_ENDPOINTS.filter((x) => !x.endsWith('-finetuned'))) assert.ok(help.includes(e), e);
    for (const flag of [
      '--finetune-id ID',
      '--control-image FILE',
      '--preprocessed-image FILE',
      '--canny-low N',
      '--canny-high N',
      '--image FILE',
      '--mask FILE',
    ]) {
      assert.ok(help.includes(flag), flag);
    }
  });
});

describe('CLI spec: generate', () => {
  it('every field flag is a declared flag and names a field some route has; every route is an --endpoint', () => {
    const declared = new Set(COMMANDS.find((c) => c.name === 'generate')!.flags.map((f) => f.name));
    const fields = new Set(Object.values(INFERENCE_ENDPOINTS).flatMap((e) => Object.keys(e.body.shape)));
    for (const { flag, field } of GENERATE_FIELDS) {
      assert.ok(declared.has(flag), `--${flag} is declared`);
      assert.ok(fields.has(field), `${field} is a request field`);
    }
    assert.deepEqual([...GENERATE_ENDPOINTS].sort(), Object.keys(INFERENCE_ENDPOINTS).sort());
  });
});
