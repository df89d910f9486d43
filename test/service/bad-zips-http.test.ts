import assert from 'node:assert/strict';
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BAD_ZIP_CASES } from '../dataset/bad-zip-corpus.ts';
import { apiClient, KEY_A, startTestServer, type TestServer } from './support/harness.ts';

/** Every file under dir except the database's own (which may rewrite pages on reads), with sizes. */
async function blobListing(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, rel: string) {
    let entries: Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (rel === '' && e.name === 'pg') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}:${(await stat(p)).size}`);
    }
  }
  await walk(dir, '');
  return out.sort();
}

describe('bad-ZIP corpus over HTTP: each case is a 422 naming the file, and nothing is stored', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    server = await startTestServer();
    api = apiClient(server.url, KEY_A);
  });
  after(() => server.stop());

  for (const c of BAD_ZIP_CASES) {
    it(c.name, async () => {
      const before = await blobListing(server.dataDir);
      const tasksBefore = (await server.db.query<{ n: number }>('select count(*)::int as n from tasks')).rows[0]!.n;
      const r = await api.post('/v1/finetune', { file_data: await c.fileData(), finetune_comment: 'bad', mode: 'general' });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.detail.length, 1);
      const d = r.body.detail[0];
      assert.deepEqual(d.loc, ['body', 'file_data']);
      assert.equal(d.type, 'value_error');
      for (const s of c.expect) assert.ok(d.msg.includes(s), `${JSON.stringify(d.msg)} lacks ${JSON.stringify(s)}`);
      assert.deepEqual(await blobListing(server.dataDir), before);
      assert.equal((await server.db.query<{ n: number }>('select count(*)::int as n from tasks')).rows[0]!.n, tasksBefore);
    });
  }
});
