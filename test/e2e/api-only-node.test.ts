// `serve --no-worker` is an API-only node (scale-out: workers elsewhere claim the jobs). It used to be
// ignored (the flag parsed as "no-worker" = true): API nodes loaded the model and trained.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { apiClient, freshDataDir } from '../service/support/harness.ts';
import { sceneZip } from './support/scene-zip.ts';
import { type SpawnedServer, spawnServer } from './support/spawned-server.ts';

const KEY = 'ft_api_only_key_0123456789abcdef';

describe('serve --no-worker', () => {
  let dataDir: string | undefined;
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loads no model and runs no job: a submitted finetune stays queued', { timeout: 120_000 }, async () => {
    dataDir = await freshDataDir();
    server = await spawnServer({ dataDir, apiKey: KEY, args: ['--no-worker'] });
    assert.match(server.log(), /model none: --no-worker/);
    const api = apiClient(server.url, KEY);
    const r = await api.post('/v1/finetune', {
      file_data: (await sceneZip(2)).toString('base64'),
      finetune_comment: 'queued',
      mode: 'product',
      iterations: 100,
    });
    assert.equal(r.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const result = (await api.get(`/v1/get_result?id=${r.body.id}`)).body;
    assert.equal(result.status, 'Pending');
    assert.equal(result.progress, 0);
  });
});
