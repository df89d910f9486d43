import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { FluxtuneAuthError, FluxtuneClient, FluxtuneNotFoundError, FluxtuneNotReadyError, FluxtuneValidationError } from '../../src/client/index.ts';
import { solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from '../service/support/deterministic-test-backend.ts';
import { KEY_A, startTestServer, type TestServer } from '../service/support/harness.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;

describe('SDK and CLI against a live server', () => {
  let server: TestServer;
  let client: FluxtuneClient;
  let folder: string;
  let finetuneId: string;

  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 4 }) });
    client = new FluxtuneClient({ baseUrl: server.url, apiKey: KEY_A });
    folder = await mkdtemp(join(tmpdir(), 'fluxtune-sdk-'));
    await mkdir(join(folder, 'nested'));
    await writeFile(join(folder, 'one.png'), await solidPng(32, 32));
    await writeFile(join(folder, 'one.txt'), 'TOK on white');
    await writeFile(join(folder, 'nested', 'two.png'), await solidPng(20, 30, [0, 90, 0]));
    await writeFile(join(folder, '.DS_Store'), 'junk');
  });
  after(async () => {
    await server.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('honours BFL_API_KEY like the seed script, and says so when missing', () => {
    const saved = { bfl: process.env.BFL_API_KEY, ft: process.env.FLUXTUNE_API_KEY };
    try {
      delete process.env.BFL_API_KEY;
      delete process.env.FLUXTUNE_API_KEY;
      assert.throws(() => new FluxtuneClient({ baseUrl: server.url }), /BFL_API_KEY/);
      process.env.BFL_API_KEY = KEY_A;
      assert.ok(new FluxtuneClient({ baseUrl: server.url }));
    } finally {
      if (saved.bfl === undefined) delete process.env.BFL_API_KEY;
      else process.env.BFL_API_KEY = saved.bfl;
      if (saved.ft !== undefined) process.env.FLUXTUNE_API_KEY = saved.ft;
    }
  });

  it('requestFinetuning zips a folder; waitFor reports progress until Ready', async () => {
    const submitted = await client.requestFinetuning(folder, { finetune_comment: 'sdk', mode: 'product', trigger_word: 'mycstm' });
    finetuneId = submitted.finetune_id;
    const seen: (number | null)[] = [];
    const done = await client.waitFor(finetuneId, { onProgress: (p) => seen.push(p), intervalMs: 20 });
    assert.equal(done.status, 'Ready');
    assert.equal(seen.at(-1), 1);
    const details = await client.finetuneDetails(finetuneId);
    assert.equal(details.image_count, 2);
    assert.deepEqual(
      details.captions?.map((c) => c.file),
      ['nested/two.png', 'one.png'],
    );
    assert.deepEqual(await client.listFinetunes(), [finetuneId]);
  });

  it('finetuneInference + waitFor + downloadSample', async () => {
    const sub = await client.finetuneInference(finetuneId, {
      prompt: 'mycstm on grass',
      endpoint: 'flux-pro-finetuned',
      width: 256,
      height: 256,
      output_format: 'png',
    });
    const done = await client.waitFor(sub.id, { intervalMs: 20 });
    const bytes = await client.downloadSample(done);
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 256, 256]);
  });

  it('typed errors: 422 carries the issues, 404, 400, 403', async () => {
    await assert.rejects(client.requestFinetuning({ base64: 'AAAA' }, { finetune_comment: 'x', iterations: 5 }), (err: unknown) => {
      assert.ok(err instanceof FluxtuneValidationError);
      assert.deepEqual(
        err.issues.map((i) => i.loc.join('.')),
        ['body.iterations'],
      );
      return true;
    });
    await assert.rejects(client.requestFinetuning({ base64: 'AAAA' }, { finetune_comment: 'x' }), (err: unknown) => {
      assert.ok(err instanceof FluxtuneValidationError);
      assert.equal(err.issues[0]!.loc.join('.'), 'body.file_data');
      return true;
    });
    await assert.rejects(client.finetuneDetails('00000000-0000-4000-8000-000000000000'), FluxtuneNotFoundError);
    await assert.rejects(new FluxtuneClient({ baseUrl: server.url, apiKey: 'nope' }).listFinetunes(), FluxtuneAuthError);
    assert.ok(FluxtuneNotReadyError);
  });

  it('CLI: list/details/status/result --json, seed aliases, generate --out', async () => {
    const env = { ...process.env, BFL_API_KEY: KEY_A, FLUXTUNE_URL: server.url };
    const cli = async (...args: string[]) => (await run(process.execPath, ['--import', 'tsx', CLI, ...args], { env })).stdout;
    assert.deepEqual(JSON.parse(await cli('list', '--json')), { finetunes: [finetuneId] });
    assert.deepEqual(JSON.parse(await cli('finetune_list', '--json')), { finetunes: [finetuneId] });
    assert.equal(JSON.parse(await cli('details', finetuneId, '--json')).trigger_word, 'mycstm');
    assert.match(await cli('finetune_progress', finetuneId), /status:\s+Ready/);
    const out = join(folder, 'out.jpg');
    const gen = JSON.parse(
      await cli(
        'generate',
        finetuneId,
        '--prompt',
        'mycstm',
        '--strength',
        '0.5',
        '--endpoint',
        'flux-pro-finetuned',
        '--width',
        '256',
        '--height',
        '256',
        '--out',
        out,
        '--json',
      ),
    );
    assert.equal(gen.status, 'Ready');
    assert.equal((await sharp(await readFile(out)).metadata()).format, 'jpeg');
    const failed = await run(process.execPath, ['--import', 'tsx', CLI, 'details', '00000000-0000-4000-8000-000000000000'], { env }).catch((e) => e);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /Finetune not found/);
  });
});
