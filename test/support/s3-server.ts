// A real S3 API on loopback for tests and benchmarks: the npm package s3rver (a devDependency; nothing
// Debian ships serves S3) in a child process (test/support/s3rver-process.ts), storing under a temp
// dir, with one bucket. Hands out the env a fluxtune process needs to use it (FLUXTUNE_BLOB_URL,
// endpoint, credentials, region) and S3BlobStores on it.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobLocationFromEnv, type S3BlobLocation } from '../../src/service/storage/blob-location.ts';
import { S3BlobStore } from '../../src/service/storage/s3-blob-store.ts';

const PROCESS = new URL('./s3rver-process.ts', import.meta.url).pathname;

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The environment of a fluxtune process that keeps its blobs here (under prefix, when given). */
  env(prefix?: string): Record<string, string>;
  /** A store on this server (close it with .close()); listPageSize as S3BlobStore's. */
  store(prefix?: string, listPageSize?: number): S3BlobStore;
  stop(): Promise<void>;
}

export async function startTestS3(bucket = 'fluxtune-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'fluxtune-s3rver-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // a server, not a node:test subprocess
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', PROCESS, directory, bucket], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const blobEnv = (prefix = '') => ({
    FLUXTUNE_BLOB_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    // s3rver's fixed test credentials.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  return {
    endpoint,
    bucket,
    env: blobEnv,
    store(prefix, listPageSize) {
      const e = blobEnv(prefix);
      const location = blobLocationFromEnv(e) as S3BlobLocation;
      return new S3BlobStore(location, { credentials: { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY } }, listPageSize);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin!.end();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
