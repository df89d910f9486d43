// The SDK's and the CLI's LoRA download and import against a live server (test-double backend):
// importFinetune → downloadWeights / downloadWeightsFile; `fluxtune import` and `fluxtune download`
// with its default file name, --format/--dtype/--out, and errors on stderr with exit code 1.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FluxtuneClient, FluxtuneNotFoundError, FluxtuneValidationError } from '../../src/client/index.ts';
import { parseSafetensors } from '../../src/engine/safetensors.ts';
import { loadFluxMiniConfig } from '../../src/model/flux-mini/config.ts';
import { readLora } from '../../src/model/lora/files.ts';
import { DeterministicTestBackend } from '../service/support/deterministic-test-backend.ts';
import { KEY_A, startTestServer, type TestServer } from '../service/support/harness.ts';
import { fluxMiniLora, fluxMiniLoraFile } from '../support/flux-mini-lora.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;
// Resolved here: the CLI runs in a scratch directory (for its default file name), where `tsx` is not found.
const TSX = import.meta.resolve('tsx');
const params = loadFluxMiniConfig().flux;

describe('SDK and CLI: LoRA download and import', () => {
  let server: TestServer;
  let client: FluxtuneClient;
  let dir: string;
  let finetuneId: string;

  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 2 }) });
    client = new FluxtuneClient({ baseUrl: server.url, apiKey: KEY_A });
    dir = await mkdtemp(join(tmpdir(), 'fluxtune-lora-cli-'));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('importFinetune, then downloadWeights in the asked layout and dtype; downloadWeightsFile names it', async () => {
    const r = await client.importFinetune(fluxMiniLoraFile(), { finetune_comment: 'sdk/lora: test', trigger_word: 'mycstm' });
    assert.deepEqual([r.status, r.layout, r.lora_rank], ['Ready', 'bfl', 4]);
    finetuneId = r.finetune_id;
    assert.equal((await client.finetuneDetails(finetuneId)).trigger_word, 'mycstm');

    const bytes = await client.downloadWeights(finetuneId, { format: 'diffusers', dtype: 'fp32' });
    assert.ok([...parseSafetensors(bytes).tensors.keys()].every((k) => k.startsWith('transformer.')));
    assert.equal(readLora(bytes, params).size, fluxMiniLora().size);
    const file = await client.downloadWeightsFile(finetuneId);
    assert.equal(file.filename, 'sdk-lora- test.comfyui.safetensors', 'path separators and colons are not part of a file name');
    assert.ok([...parseSafetensors(file.bytes).tensors.values()].every((t) => t.dtype === 'BF16'));
  });

  it('typed errors: 404 for an unknown finetune, 422 naming the key for a foreign file', async () => {
    await assert.rejects(client.downloadWeights('00000000-0000-4000-8000-000000000000'), FluxtuneNotFoundError);
    await assert.rejects(client.importFinetune({ base64: Buffer.from('nope').toString('base64') }, { finetune_comment: 'x' }), (err: unknown) => {
      assert.ok(err instanceof FluxtuneValidationError);
      assert.equal(err.issues[0]!.loc.join('.'), 'body.file_data');
      return true;
    });
  });

  it('CLI: download (default name, --format/--dtype/--out), import --json, errors', async () => {
    const env = { ...process.env, BFL_API_KEY: KEY_A, FLUXTUNE_URL: server.url };
    const cli = async (...args: string[]) => run(process.execPath, ['--import', TSX, CLI, ...args], { env, cwd: dir });
    const { stderr } = await cli('download', finetuneId);
    assert.match(stderr, /saved sdk-lora- test\.comfyui\.safetensors/);
    assert.deepEqual(await readdir(dir), ['sdk-lora- test.comfyui.safetensors']);

    const out = join(dir, 'mine.safetensors');
    const saved = JSON.parse((await cli('download', finetuneId, '--format', 'kohya', '--dtype', 'fp16', '--out', out, '--json')).stdout);
    assert.equal(saved.file, out);
    const kohya = parseSafetensors(await readFile(out));
    assert.ok([...kohya.tensors.keys()].every((k) => k.startsWith('lora_unet_')));
    assert.ok([...kohya.tensors.values()].every((t) => t.dtype === 'F16'));

    const imported = JSON.parse((await cli('import', out, '--comment', 'from the cli', '--json')).stdout);
    assert.deepEqual([imported.status, imported.layout], ['Ready', 'kohya']);
    assert.equal((await client.finetuneDetails(imported.finetune_id)).trigger_word, 'mycstm', 'the trigger word the file records');

    const bad = join(dir, 'bad.safetensors');
    await writeFile(bad, 'not a LoRA');
    const failed = await cli('import', bad, '--comment', 'x').catch((e) => e);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /body\.file_data: .*not a readable safetensors file/);
    const missing = await cli('download', '00000000-0000-4000-8000-000000000000').catch((e) => e);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Finetune not found/);
    const wrongFormat = await cli('download', finetuneId, '--format', 'ckpt').catch((e) => e);
    assert.equal(wrongFormat.code, 1);
    assert.match(wrongFormat.stderr, /query\.format/);
  });
});
