import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/service/auth/api-keys.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

describe("key isolation: another key's finetune and tasks are 404 everywhere", () => {
  let server: TestServer;
  let a: ReturnType<typeof apiClient>;
  let b: ReturnType<typeof apiClient>;
  let finetuneId: string;
  let generationId: string;

  before(async () => {
    server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 2 }) });
    a = apiClient(server.url, KEY_A);
    b = apiClient(server.url, (await createApiKey(server.db, 'other')).key);
    const zip = b64(await buildZip([{ name: 'x.png', data: await solidPng(16, 16) }]));
    finetuneId = (await a.post('/v1/finetune', { file_data: zip, finetune_comment: 'mine', mode: 'product' })).body.finetune_id;
    await waitUntil(async () => (await a.get(`/v1/get_result?id=${finetuneId}`)).body.status === 'Ready');
    generationId = (await a.post('/v1/flux-pro-finetuned', { finetune_id: finetuneId, prompt: 'TOK' })).body.id;
    await waitUntil(async () => (await a.get(`/v1/get_result?id=${generationId}`)).body.status === 'Ready');
  });
  after(() => server.stop());

  it('get_result, finetune_details, delete, every inference route, my_finetunes', async () => {
    assert.deepEqual((await b.get(`/v1/get_result?id=${finetuneId}`)).body, { id: finetuneId, status: 'Task not found' });
    assert.equal((await b.get(`/v1/get_result?id=${generationId}`)).status, 404);
    assert.equal((await b.get(`/v1/finetune_details?finetune_id=${finetuneId}`)).status, 404);
    assert.equal((await b.post('/v1/delete_finetune', { finetune_id: finetuneId })).status, 404);
    assert.equal((await b.post('/v1/flux-pro-finetuned', { finetune_id: finetuneId, prompt: 'x' })).status, 404);
    assert.equal((await b.post('/v1/flux-pro-1.1-ultra-finetuned', { finetune_id: finetuneId, prompt: 'x' })).status, 404);
    assert.deepEqual((await b.get('/v1/my_finetunes')).body, { finetunes: [] });
    // …and the owner still has it.
    assert.equal((await a.get(`/v1/finetune_details?finetune_id=${finetuneId}`)).status, 200);
    assert.deepEqual((await a.get('/v1/my_finetunes')).body, { finetunes: [finetuneId] });
  });

  it('a revoked key is refused', async () => {
    const { key, id } = await createApiKey(server.db, 'short-lived');
    const c = apiClient(server.url, key);
    assert.equal((await c.get('/v1/my_finetunes')).status, 200);
    const { revokeApiKey } = await import('../../src/service/auth/api-keys.ts');
    assert.equal(await revokeApiKey(server.db, id), 1);
    // The verifier caches briefly (FLUXTUNE_KEY_CACHE_MS; 100 ms in tests).
    await waitUntil(async () => (await c.get('/v1/my_finetunes')).status === 403, 3_000, 50);
  });
});
