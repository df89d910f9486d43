// kill -9 while an upload is being stored used to leave its blob folder (or a half-written temp file)
// on disk for ever: the task that would reference it was never committed. A restart sweeps them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { buildZip } from '../dataset/zip-fixtures.ts';
import { apiClient, freshDataDir } from '../service/support/harness.ts';
import { type SpawnedServer, spawnServer } from './support/spawned-server.ts';

const KEY = 'ft_orphans_key_0123456789abcdef';

async function tempFiles(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return all.filter((f) => /\.tmp-[0-9a-f]{12}$/.test(f));
}

describe('blobs of uncommitted uploads after kill -9', () => {
  let dataDir: string | undefined;
  const servers: SpawnedServer[] = [];
  after(async () => {
    for (const s of servers) await s.kill9();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('are removed when the server starts again; committed ones stay', { timeout: 300_000 }, async () => {
    dataDir = await freshDataDir();
    const blobs = join(dataDir, 'blobs');
    const first = await spawnServer({ dataDir, apiKey: KEY, env: { FLUXTUNE_JOB_MAX_ATTEMPTS: '1' } });
    servers.push(first);
    const api = apiClient(first.url, KEY);

    // A committed finetune: its folder must survive the sweep.
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } } })
      .png()
      .toBuffer();
    const kept = await api.post('/v1/finetune', {
      file_data: (await buildZip([{ name: 'a.png', data: png }])).toString('base64'),
      finetune_comment: 'kept',
      mode: 'product',
    });
    assert.equal(kept.status, 200);
    const keptId = kept.body.finetune_id as string;
    assert.ok(existsSync(join(blobs, 'finetunes', keptId)));

    // A big upload, killed as soon as its folder appears (before its task can commit, most of the time).
    const noisy = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sharp({ create: { width: 900, height: 900, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 120 + i, sigma: 60 } } })
          .png()
          .toBuffer(),
      ),
    );
    const zip = await buildZip(noisy.map((data, i) => ({ name: `big${i}.png`, data, compress: false })));
    const before = new Set(await readdir(join(blobs, 'finetunes')));
    void api.post('/v1/finetune', { file_data: zip.toString('base64'), finetune_comment: 'killed', mode: 'product' }).catch(() => {});
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await readdir(join(blobs, 'finetunes'))).every((d) => before.has(d))) await new Promise((r) => setTimeout(r, 2));
    await first.kill9();

    // What a crash at other moments leaves: an empty task folder and an unfinished write.
    const emptyOrphan = join(blobs, 'finetunes', randomUUID());
    await mkdir(emptyOrphan, { recursive: true });
    const halfWritten = join(blobs, 'tasks', randomUUID(), 'sample.jpg.tmp-0123456789ab');
    await mkdir(join(halfWritten, '..'), { recursive: true });
    await writeFile(halfWritten, 'half');

    const second = await spawnServer({ dataDir, apiKey: KEY });
    servers.push(second);
    const api2 = apiClient(second.url, KEY);
    const committed = new Set<string>((await api2.get('/v1/my_finetunes')).body.finetunes);
    assert.ok(committed.has(keptId));
    for (const top of ['finetunes', 'tasks']) {
      for (const id of await readdir(join(blobs, top)).catch(() => [] as string[])) {
        const status = (await api2.get(`/v1/get_result?id=${id}`)).status;
        assert.equal(status, 200, `${top}/${id} is on disk but no task of this key references it`);
      }
    }
    assert.ok(!existsSync(emptyOrphan));
    assert.ok(!existsSync(join(halfWritten, '..')));
    assert.deepEqual(await tempFiles(blobs), []);
    assert.ok(existsSync(join(blobs, 'finetunes', keptId)));
    assert.match(second.log(), /removed \d+ blob folder\(s\)/);
  });
});
