import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimJob, recordCheckpoint } from '../../src/service/jobs/queue.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

async function zip(): Promise<string> {
  return b64(
    await buildZip([
      { name: 'a.png', data: await solidPng(16, 16) },
      { name: 'b.png', data: await solidPng(16, 16, [0, 0, 255]) },
    ]),
  );
}

describe('job durability', () => {
  let server: TestServer;
  after(() => server?.stop());

  it("a crashed worker's job (expired lease) is re-claimed and resumes from its last checkpoint", async () => {
    // Phase 1: a server with no worker accepts the finetune; a "worker" claims it, checkpoints at step 4 and dies.
    const first = await startTestServer({ config: { leaseMs: 300 } });
    const api = apiClient(first.url, KEY_A);
    const id = (await api.post('/v1/finetune', { file_data: await zip(), finetune_comment: 'crash', mode: 'general' })).body.finetune_id;
    const claimed = await claimJob(first.db, 'doomed-worker', 300, ['finetune']);
    assert.equal(claimed?.id, id);
    const checkpoint = new Uint8Array(32).fill(9);
    await first.blobs.put(`finetunes/${id}/checkpoint.bin`, checkpoint);
    await recordCheckpoint(first.db, id, 'doomed-worker', `finetunes/${id}/checkpoint.bin`, 4);
    // While the lease is live nobody else may take it.
    assert.equal(await claimJob(first.db, 'other', 300, ['finetune']), null);
    await new Promise((r) => setTimeout(r, 400));

    // Phase 2: a worker comes up on the same data; the expired lease is taken over.
    await first.stop({ keepData: true });
    const backend = new DeterministicTestBackend({ steps: 8, checkpointEvery: 2 });
    server = await startTestServer({ backend, dataDir: first.dataDir, config: { leaseMs: 300 } });
    const api2 = apiClient(server.url, KEY_A);
    const done = await waitUntil(async () => {
      const s = await api2.get(`/v1/get_result?id=${id}`);
      return s.body.status !== 'Pending' && s.body;
    });
    assert.equal(done.status, 'Ready', JSON.stringify(done));
    assert.deepEqual(
      backend.log.trains.map((t) => t.resumedFromStep),
      [4],
    );
    // The checkpoint is dropped once the LoRA is stored.
    assert.equal(await server.blobs.has(`finetunes/${id}/checkpoint.bin`), false);
    assert.equal(await server.blobs.has(`finetunes/${id}/lora.safetensors`), true);
  });
});

describe('job retries and cancellation', () => {
  let server: TestServer;
  let backend: DeterministicTestBackend;
  before(async () => {
    backend = new DeterministicTestBackend({ steps: 3, failFirstTrains: 4, stepDelayMs: 0 });
    server = await startTestServer({ backend, config: { jobMaxAttempts: 3 } });
  });
  after(() => server.stop());

  it('retries with a limit, then a final Error with the reason in details', async () => {
    const api = apiClient(server.url, KEY_A);
    const id = (await api.post('/v1/finetune', { file_data: await zip(), finetune_comment: 'fails', mode: 'general' })).body.finetune_id;
    const done = await waitUntil(async () => {
      const s = await api.get(`/v1/get_result?id=${id}`);
      return s.body.status !== 'Pending' && s.body;
    });
    assert.equal(done.status, 'Error');
    assert.match(done.details.error, /simulated training failure #3/);
    assert.equal(backend.log.trains.length, 3);
  });

  it('a second attempt succeeds when the failure was transient', async () => {
    const api = apiClient(server.url, KEY_A);
    const id = (await api.post('/v1/finetune', { file_data: await zip(), finetune_comment: 'flaky', mode: 'general' })).body.finetune_id;
    const done = await waitUntil(async () => {
      const s = await api.get(`/v1/get_result?id=${id}`);
      return s.body.status !== 'Pending' && s.body;
    });
    assert.equal(done.status, 'Ready'); // 4th train call fails, 5th succeeds
  });
});

describe('cancellation', () => {
  it('deleting a training finetune aborts it and leaves no files', async () => {
    const backend = new DeterministicTestBackend({ steps: 1000, stepDelayMs: 5, checkpointEvery: 10 });
    const server = await startTestServer({ backend });
    try {
      const api = apiClient(server.url, KEY_A);
      const id = (await api.post('/v1/finetune', { file_data: await zip(), finetune_comment: 'long', mode: 'general' })).body.finetune_id;
      await waitUntil(async () => ((await api.get(`/v1/get_result?id=${id}`)).body.progress ?? 0) > 0.02);
      assert.equal((await api.post('/v1/delete_finetune', { finetune_id: id })).status, 200);
      await waitUntil(async () => server.runner && !(server.runner as any).active.has(id), 5_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await server.blobs.has(`finetunes/${id}/checkpoint.bin`), false);
      assert.equal((await api.get(`/v1/get_result?id=${id}`)).status, 404);
    } finally {
      await server.stop();
    }
  });
});
