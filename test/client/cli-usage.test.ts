// The CLI as a new user meets it: per-command help, typos caught with a suggestion (a misspelt
// --iterations must not silently train with the default), exit codes (2 usage, 1 API error), a
// generation id printed under its own name, a readable list, and a refused connection explained.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from '../service/support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from '../service/support/harness.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;

describe('CLI usage', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let finetuneId: string;
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', CLI, ...args], { env });
  const fails = (...args: string[]) =>
    cli(...args).then(
      () => assert.fail(`fluxtune ${args.join(' ')} succeeded`),
      (e: { code: number; stderr: string; stdout: string }) => e,
    );

  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 2 }) });
    env = { ...process.env, BFL_API_KEY: KEY_A, FLUXTUNE_URL: server.url };
    const api = apiClient(server.url, KEY_A);
    const r = await api.post('/v1/finetune', {
      file_data: b64(await buildZip([{ name: 'a.png', data: await solidPng(16, 16) }])),
      finetune_comment: 'my red cube',
      mode: 'product',
      trigger_word: 'cubetok',
    });
    finetuneId = r.body.finetune_id;
    await waitUntil(async () => (await api.get(`/v1/get_result?id=${finetuneId}`)).body.status === 'Ready');
  });
  after(() => server.stop());

  it('an unknown option is a usage error (exit 2) naming the nearest valid one, before anything is sent', async () => {
    const e = await fails('finetune', 'no-such-dir', '--comment', 'x', '--iteratons', '500');
    assert.equal(e.code, 2);
    assert.match(e.stderr, /unknown option --iteratons for 'finetune'; did you mean --iterations\?/);
    const g = await fails('generate', finetuneId, '--promt', 'x');
    assert.equal(g.code, 2);
    assert.match(g.stderr, /did you mean --prompt\?/);
  });

  it('an unknown command is a usage error with a suggestion', async () => {
    const e = await fails('detials', finetuneId);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /unknown command 'detials'; did you mean 'details'\?/);
  });

  it('each command has --help listing its options; the top-level help lists commands and exit codes', async () => {
    const help = (await cli('finetune', '--help')).stdout;
    for (const flag of ['--iterations N', '--mode general|character|style|product', '--finetune-type full|lora', '--no-captioning', '--wait']) {
      assert.ok(help.includes(flag.replace('--no-captioning', '--captioning')), flag);
    }
    assert.match((await cli('serve', '--help')).stdout, /--worker .*--no-worker/);
    const top = (await cli('--help').catch(() => cli())).stdout + (await cli()).stdout;
    assert.match(top, /download <finetune_id>/);
    assert.match(top, /Exit codes: 0 done, 1 .*, 2 a usage error/);
  });

  it('an API error exits 1', async () => {
    const e = await fails('details', '00000000-0000-4000-8000-000000000000');
    assert.equal(e.code, 1);
    assert.match(e.stderr, /Finetune not found/);
  });

  it('generate without --wait prints the generation id as id, not as a finetune id', async () => {
    const out = (await cli('generate', finetuneId, '--prompt', 'cubetok', '--endpoint', 'flux-pro-finetuned', '--width', '256', '--height', '256')).stdout;
    assert.match(out, /^id:\s+[0-9a-f-]{36}$/m);
    assert.doesNotMatch(out, /finetune_id/);
  });

  it('list shows status, created, trigger word and comment', async () => {
    const out = (await cli('list')).stdout;
    const line = out.split('\n').find((l) => l.startsWith(finetuneId))!;
    assert.match(line, /Ready\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+cubetok\s+my red cube/);
    assert.deepEqual(JSON.parse((await cli('list', '--json')).stdout), { finetunes: [finetuneId] });
  });

  it('a refused connection names the URL and says how to start a server', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    const e = await run(process.execPath, ['--import', 'tsx', CLI, 'list'], { env: { ...env, FLUXTUNE_URL: url } }).catch((x) => x);
    assert.equal(e.code, 1);
    assert.ok(e.stderr.includes(`cannot reach a fluxtune server at ${url} (ECONNREFUSED). Start one with \`npx fluxtune serve\``), e.stderr);
  });
});
