// The S3 API server of the tests, as its own process (started by test/support/s3-server.ts):
//   node --openssl-legacy-provider --import tsx test/support/s3rver-process.ts <directory> <bucket>
// prints "listening <port>" and runs until its stdin closes (so it dies with whoever started it).
// Its own process because s3rver signs ListObjectsV2 continuation tokens with DES, which OpenSSL 3
// offers only with the legacy provider, a flag the test processes themselves should not carry.

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (o: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
  resetOnClose?: boolean;
}) => S3rverInstance;

// s3rver ships no types; loaded through require so the typecheck needs none.
const S3rver = require('s3rver') as S3rverClass;

// s3rver is a test server, and where it is less faithful to S3 than our tests need, it is patched here:
interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
interface FilesystemStoreProto {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  deleteObject(bucket: string, key: string): Promise<void>;
}
const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStoreProto };

// 1. A PUT (and a multipart completion) streams straight into the object's file and answers before
//    that file is flushed, so readers see partial objects and concurrent writers interleave. S3 makes
//    an object visible whole, on completion: write a temp file to the end, then rename it into place.
FilesystemStore.prototype.putObject = async function (this: FilesystemStoreProto, object: S3rverObject) {
  const target = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.incoming-${randomBytes(6).toString('hex')}`;
  const md5 = createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      await writeFile(tmp, object.content);
    } else {
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          md5.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(object.content, count, createWriteStream(tmp));
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const hex = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, hex);
  return { size, md5: hex };
};

// 2. A multi-object delete removes its keys in parallel, and each removal prunes empty parent folders
//    with a readdirSync that throws (InternalError to the client) when a sibling pruned the folder
//    first. S3 has no folders: one removal at a time.
const deleteObject = FilesystemStore.prototype.deleteObject;
let deletions: Promise<unknown> = Promise.resolve();
FilesystemStore.prototype.deleteObject = function (this: FilesystemStoreProto, bucket: string, key: string) {
  const next = deletions.then(() => deleteObject.call(this, bucket, key));
  deletions = next.catch(() => {});
  return next;
};

// 3. AbortMultipartUpload (DELETE /bucket/key?uploadId=…) is answered 405, so a failed upload's abort
//    fails and hides the original error. Answered as S3 does (204), the parts dropped.
function abortMultipartUploads(directory: string) {
  return async (ctx: { method: string; path: string; query: Record<string, unknown>; status: number }, next: () => Promise<void>) => {
    const uploadId = ctx.query.uploadId;
    if (ctx.method !== 'DELETE' || typeof uploadId !== 'string' || !/^[0-9a-f]+$/.test(uploadId)) return next();
    const bucket = ctx.path.split('/')[1] ?? '';
    await rm(join(directory, bucket, '._S3rver_uploads', uploadId), { recursive: true, force: true });
    ctx.status = 204;
  };
}

const [directory, bucket] = process.argv.slice(2) as [string, string];
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: process.env.S3RVER_LOG !== '1', directory, configureBuckets: [{ name: bucket }] });
(server as unknown as { middleware: unknown[] }).middleware.unshift(abortMultipartUploads(directory));
const addr = await server.run();
process.stdout.write(`listening ${addr.port}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
