// One contract for every BlobStore: the local directory store and the S3 store (against a real S3 API,
// s3rver on loopback, started here). Whatever a node of a deployment relies on is asserted for both:
// round trips, overwrite, delete, prefixes, missing keys, concurrent writers, large streamed objects,
// a failed stream and a writer SIGKILLed mid-upload leaving nothing reachable.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../src/service/storage/blob-store.ts';
import { LocalBlobStore } from '../../src/service/storage/local-blob-store.ts';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';

const CHILD = new URL('./support/blob-writer-child.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;

interface Subject {
  store: BlobStore;
  /** Starts the crash child writing `key` to this same store; its argv and env. */
  childArgs(key: string, announceAfter: number): { argv: string[]; env: Record<string, string> };
  /** Files or parts a dead writer may have left outside the keyspace (temp files, parts). */
  leftovers(): Promise<string[]>;
  /** What a SIGKILLed writer is known to leave for removeIncompleteWrites (local: its temp file). */
  leftByCrash: number;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function streamSha(s: Readable): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of s as AsyncIterable<Buffer>) {
    h.update(c);
    bytes += c.length;
  }
  return { hash: h.digest('hex'), bytes };
}

/** Deterministic pseudo-random bytes, generated chunk by chunk (never held whole), and their hash. */
function generated(totalBytes: number, seed: number): { stream: () => AsyncGenerator<Uint8Array>; hash: string } {
  const chunkAt = (i: number) => createHash('sha512').update(`${seed}:${i}`).digest();
  const chunkSize = 64 * 1024;
  const make = function* () {
    let sent = 0;
    for (let i = 0; sent < totalBytes; i++) {
      const block = Buffer.alloc(Math.min(chunkSize, totalBytes - sent));
      const seedBlock = chunkAt(i);
      for (let o = 0; o < block.length; o += seedBlock.length) seedBlock.copy(block, o);
      sent += block.length;
      yield block;
    }
  };
  const h = createHash('sha256');
  for (const b of make()) h.update(b);
  return {
    hash: h.digest('hex'),
    async *stream() {
      yield* make();
    },
  };
}

function contract(name: string, setup: () => Promise<Subject>, teardown: () => Promise<void>) {
  describe(`BlobStore contract: ${name}`, () => {
    let s: Subject;
    before(async () => {
      s = await setup();
    });
    after(teardown);

    it('put → get/has/getStream, overwrite, delete; missing keys are null/false and deleting one is fine', async () => {
      const key = `tasks/${randomUUID()}/sample.jpg`;
      assert.equal(await s.store.get(key), null);
      assert.equal(await s.store.getStream(key), null);
      assert.equal(await s.store.has(key), false);
      await s.store.delete(key); // absent: no error

      const first = randomBytes(1000);
      await s.store.put(key, first);
      assert.deepEqual(Buffer.from((await s.store.get(key))!), first);
      assert.equal(await s.store.has(key), true);
      assert.equal((await streamSha((await s.store.getStream(key))!)).hash, sha(first));

      const second = randomBytes(10);
      await s.store.put(key, second);
      assert.deepEqual(Buffer.from((await s.store.get(key))!), second, 'an overwrite replaces the whole blob');

      const empty = new Uint8Array(0);
      await s.store.put(`${key}.empty`, empty);
      assert.equal((await s.store.get(`${key}.empty`))!.length, 0, 'an empty blob is a blob, not a missing one');

      await s.store.delete(key);
      assert.equal(await s.store.get(key), null);
      assert.equal(await s.store.has(key), false);
    });

    it('deletePrefix removes exactly the keys under prefix + "/"; listChildren lists the next segment with its age', async () => {
      const a = randomUUID();
      const b = `${a}x`; // shares a's text as a prefix, but not a's "a/" folder
      const before = Date.now();
      await s.store.put(`finetunes/${a}/images/00.png`, randomBytes(10));
      await s.store.put(`finetunes/${a}/lora.safetensors`, randomBytes(10));
      await s.store.put(`finetunes/${b}/lora.safetensors`, randomBytes(10));
      const children = await s.store.listChildren('finetunes');
      const names = children.map((c) => c.name);
      assert.ok(names.includes(a) && names.includes(b), JSON.stringify(names));
      for (const c of children.filter((c) => c.name === a || c.name === b)) {
        // Some stores keep whole seconds.
        assert.ok(c.modifiedMs >= before - 2000 && c.modifiedMs <= Date.now() + 2000, `modifiedMs ${c.modifiedMs} is about now`);
      }
      assert.deepEqual(await s.store.listChildren(`finetunes/${randomUUID()}`), [], 'an absent prefix has no children');

      await s.store.deletePrefix(`finetunes/${a}`);
      assert.equal(await s.store.has(`finetunes/${a}/images/00.png`), false);
      assert.equal(await s.store.has(`finetunes/${a}/lora.safetensors`), false);
      assert.equal(await s.store.has(`finetunes/${b}/lora.safetensors`), true, 'a sibling whose name starts the same survives');
      assert.ok(!(await s.store.listChildren('finetunes')).some((c) => c.name === a));
      await s.store.deletePrefix(`finetunes/${randomUUID()}`); // absent: no error
      await s.store.deletePrefix(`finetunes/${b}`);
    });

    it('deletePrefix and listChildren go through every listing page', { timeout: 120_000 }, async () => {
      const id = randomUUID();
      // The S3 subject lists 100 keys a page (S3's own maximum is 1,000): three pages here.
      const keys = Array.from({ length: 230 }, (_, i) => `tasks/${id}/k${i}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => s.store.put(k, new Uint8Array([1]))));
      await s.store.deletePrefix(`tasks/${id}`);
      assert.deepEqual(
        (await s.store.listChildren('tasks')).filter((c) => c.name === id),
        [],
      );
    });

    it('refuses keys that could escape the store', async () => {
      for (const bad of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', '', 'a b', 'a/.hidden']) {
        await assert.rejects(s.store.put(bad, new Uint8Array(1)), /unsafe blob key/, bad);
        await assert.rejects(s.store.get(bad), /unsafe blob key/, bad);
      }
    });

    it('concurrent writers of one key: the result is one writer\u2019s whole blob, never a mix', async () => {
      const key = `tasks/${randomUUID()}/sample.png`;
      const versions = Array.from({ length: 6 }, () => randomBytes(2 * MiB));
      await Promise.all(versions.map((v) => s.store.put(key, v)));
      const got = sha((await s.store.get(key))!);
      assert.ok(
        versions.some((v) => sha(v) === got),
        'the stored blob is exactly one of the versions written',
      );
      // And many keys at once do not disturb each other.
      const many = Array.from({ length: 20 }, (_, i) => ({ key: `tasks/${randomUUID()}/p${i}.png`, bytes: randomBytes(1000 + i) }));
      await Promise.all(many.map((m) => s.store.put(m.key, m.bytes)));
      for (const m of many) assert.equal(sha((await s.store.get(m.key))!), sha(m.bytes));
    });

    it('large objects: a 40 MiB stream in (multipart on S3) and out, and an 18 MiB put of bytes', { timeout: 120_000 }, async () => {
      const big = generated(40 * MiB, 1);
      const key = `finetunes/${randomUUID()}/checkpoint.bin`;
      await s.store.putStream(key, big.stream());
      const out = await streamSha((await s.store.getStream(key))!);
      assert.equal(out.bytes, 40 * MiB);
      assert.equal(out.hash, big.hash);
      const whole = await s.store.get(key);
      assert.equal(whole!.length, 40 * MiB);
      assert.equal(sha(whole!), big.hash);

      const bytes = randomBytes(18 * MiB);
      const key2 = `finetunes/${randomUUID()}/lora.safetensors`;
      await s.store.put(key2, bytes);
      assert.equal(sha((await s.store.get(key2))!), sha(bytes));
      await s.store.delete(key);
      await s.store.delete(key2);
    });

    it('a stream that fails mid-way stores nothing and keeps the previous blob', { timeout: 60_000 }, async () => {
      const key = `finetunes/${randomUUID()}/checkpoint.bin`;
      const old = randomBytes(100);
      await s.store.put(key, old);
      async function* failing() {
        for (let i = 0; i < 12; i++) yield new Uint8Array(MiB).fill(i);
        throw new Error('the source broke');
      }
      await assert.rejects(s.store.putStream(key, failing()), /the source broke/);
      assert.deepEqual(Buffer.from((await s.store.get(key))!), old);
      const fresh = `finetunes/${randomUUID()}/checkpoint.bin`;
      await assert.rejects(s.store.putStream(fresh, Readable.from(failing())), /the source broke/);
      assert.equal(await s.store.has(fresh), false);
      assert.deepEqual(await s.leftovers(), [], 'a failed write cleans up after itself');
    });

    it('a writer SIGKILLed mid-upload leaves no reachable object; removeIncompleteWrites clears what it left', { timeout: 60_000 }, async () => {
      const id = randomUUID();
      const key = `finetunes/${id}/checkpoint.bin`;
      // Past one 8 MiB part, so the S3 store is inside a multipart upload when it dies.
      const { argv, env } = s.childArgs(key, 20 * MiB);
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (c) => {
        err += c;
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c) => {
          out += c;
          if (out.includes('writing')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before writing:\n${err}`)));
      });
      await new Promise((r) => setTimeout(r, 300)); // let a part reach the server
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      assert.equal(await s.store.has(key), false, 'no partial object under the key');
      assert.equal(await s.store.get(key), null);
      // (The local store may keep the empty folder it made; the start-up orphan sweep removes such folders.)
      assert.ok((await s.store.removeIncompleteWrites(0)) >= s.leftByCrash, 'the sweep removes what the crash left');
      assert.deepEqual(await s.leftovers(), [], 'and nothing is left behind after the sweep');
    });
  });
}

let localRoot = '';
contract(
  'LocalBlobStore',
  async () => {
    localRoot = await mkdtemp(join(tmpdir(), 'fluxtune-blobs-'));
    return {
      store: new LocalBlobStore(localRoot),
      childArgs: (key, n) => ({ argv: ['local', localRoot, key, String(n)], env: {} }),
      leftByCrash: 1,
      async leftovers() {
        const entries = await readdir(localRoot, { recursive: true, withFileTypes: true });
        return entries.filter((e) => e.isFile() && /\.tmp-/.test(e.name)).map((e) => join(e.parentPath, e.name));
      },
    };
  },
  () => rm(localRoot, { recursive: true, force: true }),
);

let s3: TestS3 | undefined;
let s3Store: ReturnType<TestS3['store']> | undefined;
contract(
  'S3BlobStore (s3rver on loopback)',
  async () => {
    s3 = await startTestS3();
    const prefix = `contract-${randomUUID().slice(0, 8)}`;
    const store = s3.store(prefix, 100);
    s3Store = store;
    return {
      store,
      childArgs: (key, n) => ({ argv: ['s3', prefix, key, String(n)], env: s3!.env(prefix) }),
      // Its open multipart upload, where the server lists them (s3rver does not).
      leftByCrash: 0,
      // Multipart uploads still open under the prefix (parts are never objects). s3rver cannot list
      // them (NotImplemented): there the reachable-object checks above are the whole assertion.
      async leftovers() {
        try {
          const r = await store.client.send(new ListMultipartUploadsCommand({ Bucket: s3!.bucket, Prefix: `${prefix}/` }));
          return (r.Uploads ?? []).map((u) => `${u.Key} (upload ${u.UploadId})`);
        } catch (err) {
          if ((err as Error).name === 'NotImplemented') return [];
          throw err;
        }
      },
    };
  },
  async () => {
    s3Store?.close();
    await s3?.stop();
  },
);
