// A real crash: the actual server process (`fluxtune serve` with the shipped flux-mini) is SIGKILLed
// while a finetune trains, after its step-50 checkpoint was stored, then started again on the same data
// directory. The finetune must finish with nothing lost, resuming from the checkpoint rather than
// starting over, and the crash must not count as a failed attempt.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { apiClient, freshDataDir, waitUntil } from '../service/support/harness.ts';
import { type SpawnedServer, sceneZip, spawnServer } from './support/spawned-server.ts';

const KEY = 'ft_kill9_key_0123456789abcdef';

describe('kill -9 of the server during training', () => {
  let dataDir: string | undefined;
  const servers: SpawnedServer[] = [];
  after(async () => {
    for (const s of servers) await s.kill9();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('restarts, resumes from the last checkpoint and finishes with nothing lost', { timeout: 300_000 }, async () => {
    const started = Date.now();
    dataDir = await freshDataDir();
    const first = await spawnServer({ dataDir, apiKey: KEY });
    servers.push(first);
    let api = apiClient(first.url, KEY);

    const submitted = await api.post('/v1/finetune', {
      file_data: (await sceneZip(3)).toString('base64'),
      finetune_comment: 'survives kill -9',
      mode: 'character',
      trigger_word: 'TOK',
      iterations: 100,
      priority: 'speed',
      finetune_type: 'lora',
      lora_rank: 16,
      captioning: false,
    });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const id = submitted.body.finetune_id as string;
    const detailsBefore = (await api.get(`/v1/finetune_details?finetune_id=${id}`)).body.finetune_details;

    // The trainer checkpoints every 50 steps and awaits the write before step 51, so progress past
    // one half means the step-50 checkpoint is in the blob store and recorded on the job.
    const checkpointFile = join(dataDir, 'blobs', 'finetunes', id, 'checkpoint.bin');
    const atKill = await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${id}`);
        assert.equal(r.body.status, 'Pending', JSON.stringify(r.body));
        return typeof r.body.progress === 'number' && r.body.progress > 0.5 && r.body.progress;
      },
      180_000,
      100,
    );
    assert.ok(existsSync(checkpointFile), 'the step-50 checkpoint is on disk before the crash');
    assert.match(first.log(), new RegExp(`finetune ${id}: training 100 steps from the start \\(attempt 1\\)`));
    await first.kill9();
    assert.equal(first.child.signalCode, 'SIGKILL');
    const killedAfter = Date.now() - started;

    const second = await spawnServer({ dataDir, apiKey: KEY });
    servers.push(second);
    api = apiClient(second.url, KEY);
    // Everything the first process acknowledged is still there, before the job even resumes.
    assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [id] });

    let lowest = 1;
    const ready = await waitUntil(
      async () => {
        const r = await api.get(`/v1/get_result?id=${id}`);
        assert.notEqual(r.body.status, 'Error', JSON.stringify(r.body));
        if (r.body.status === 'Pending' && typeof r.body.progress === 'number') lowest = Math.min(lowest, r.body.progress);
        return r.body.status === 'Ready' && r.body;
      },
      180_000,
      100,
    );
    assert.deepEqual(ready.result, { finetune_id: id });
    assert.ok(lowest >= 0.5, `progress never went back to the start after the restart (lowest ${lowest}, ${atKill} at the kill)`);

    const log = second.log();
    assert.match(log, /resuming 1 job\(s\) interrupted by the previous shutdown/);
    // Resumed from the stored checkpoint, and the crash was not counted as a failed attempt.
    assert.match(log, new RegExp(`finetune ${id}: resuming from its checkpoint at step 50/100 \\(attempt 1\\)`), log);

    // Nothing lost: same id listed, same details, a stored LoRA, and the checkpoint cleaned up.
    assert.deepEqual((await api.get('/v1/my_finetunes')).body, { finetunes: [id] });
    const detailsAfter = (await api.get(`/v1/finetune_details?finetune_id=${id}`)).body.finetune_details;
    for (const key of [
      'finetune_comment',
      'trigger_word',
      'mode',
      'finetune_type',
      'lora_rank',
      'iterations',
      'learning_rate',
      'priority',
      'captioning',
      'timestamp',
      'image_count',
      'region',
    ]) {
      assert.deepEqual(detailsAfter[key], detailsBefore[key], key);
    }
    assert.equal(detailsAfter.status, 'Ready');
    assert.equal(detailsAfter.captions.length, 3);
    assert.ok(existsSync(join(dataDir, 'blobs', 'finetunes', id, 'lora.safetensors')), 'the LoRA is stored');
    assert.ok(!existsSync(checkpointFile), 'the checkpoint is dropped once the LoRA is stored');

    if (process.env.KILL9_DEBUG) console.log(`${first.log()}\n---- after kill -9 ----\n${second.log()}`);
    await second.stop();
    assert.equal(second.child.exitCode, 0, second.log());
    console.log(`# kill -9 e2e: killed at ${(killedAfter / 1000).toFixed(1)} s (progress ${atKill}), Ready at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
