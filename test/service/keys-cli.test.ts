import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { listApiKeys } from '../../src/service/auth/api-keys.ts';
import { openPgliteDb } from '../../src/service/storage/pglite-db.ts';
import { freshDataDir } from './support/harness.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/main/cli.ts', import.meta.url).pathname;

describe('fluxtune keys create|list|revoke', () => {
  it('creates a key shown once, lists it by prefix only, revokes it', async () => {
    const dataDir = await freshDataDir();
    const cli = async (...args: string[]) =>
      (
        await run(process.execPath, ['--import', 'tsx', CLI, 'keys', ...args, '--json'], {
          env: { ...process.env, FLUXTUNE_DATA_DIR: dataDir, DATABASE_URL: '' },
        })
      ).stdout;
    try {
      const created = JSON.parse(await cli('create', '--name', 'ci'));
      assert.match(created.key, /^ft_/);
      const listed = JSON.parse(await cli('list'));
      assert.equal(listed.length, 1);
      assert.equal(listed[0].name, 'ci');
      assert.ok(!JSON.stringify(listed).includes(created.key), 'the secret is never listed');
      assert.deepEqual(JSON.parse(await cli('revoke', created.id)), { revoked: 1 });
      const db = await openPgliteDb(join(dataDir, 'pg'));
      try {
        assert.ok((await listApiKeys(db))[0]!.revokedAt);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
