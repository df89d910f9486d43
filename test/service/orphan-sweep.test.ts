import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { sweepOrphanedBlobs } from '../../src/service/storage/orphan-sweep.ts';
import { b64, buildZip, solidPng } from '../dataset/zip-fixtures.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer } from './support/harness.ts';

describe('orphan sweep', () => {
  it('removes blob folders no task references, spares fresh ones within the grace period and every committed task', async () => {
    const server = await startTestServer({ backend: new DeterministicTestBackend({ steps: 2 }) });
    try {
      const api = apiClient(server.url, KEY_A);
      const r = await api.post('/v1/finetune', {
        file_data: b64(await buildZip([{ name: 'a.png', data: await solidPng(16, 16) }])),
        finetune_comment: 'c',
        mode: 'product',
      });
      const committed = r.body.finetune_id as string;
      const orphan = `finetunes/${randomUUID()}`;
      await server.blobs.put(`${orphan}/images/00.png`, new Uint8Array([1]));
      await server.blobs.put('tasks/not-a-uuid/sample.jpg', new Uint8Array([1]));

      // Another process may be about to commit it: within the grace period it stays.
      let swept = await sweepOrphanedBlobs(server.db, server.blobs, { graceMs: 60_000 });
      assert.deepEqual(swept.prefixes, []);
      assert.ok(await server.blobs.has(`${orphan}/images/00.png`));

      swept = await sweepOrphanedBlobs(server.db, server.blobs, { graceMs: 0 });
      assert.deepEqual(swept.prefixes.sort(), [orphan, 'tasks/not-a-uuid'].sort());
      assert.ok(!(await server.blobs.has(`${orphan}/images/00.png`)));
      assert.ok(await server.blobs.has(`finetunes/${committed}/images/00.png`));
    } finally {
      await server.stop();
    }
  });
});
