// Child process for the blob-store contract's crash case: opens the store named on the command line,
// starts a streaming put that never ends, says "writing <bytes>" on stdout once more than `announceAfter`
// bytes have gone out, and waits to be SIGKILLed mid-write.
//   node --import tsx blob-writer-child.ts local <root> <key> <announceAfter>
//   node --import tsx blob-writer-child.ts s3 <prefix> <key> <announceAfter>   (FLUXTUNE_BLOB_URL etc. in env)

import { blobLocationFromEnv, type S3BlobLocation } from '../../../src/service/storage/blob-location.ts';
import { LocalBlobStore } from '../../../src/service/storage/local-blob-store.ts';
import { S3BlobStore } from '../../../src/service/storage/s3-blob-store.ts';

const [kind, where, key, announce] = process.argv.slice(2) as [string, string, string, string];
const store = kind === 'local' ? new LocalBlobStore(where) : new S3BlobStore(blobLocationFromEnv(process.env) as S3BlobLocation);
const announceAfter = Number(announce);

async function* endless(): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  let sent = 0;
  for (;;) {
    yield chunk;
    sent += chunk.length;
    if (sent > announceAfter) {
      process.stdout.write(`writing ${sent}\n`);
      // Stall here: the write stays open until the parent kills us.
      await new Promise(() => setTimeout(() => {}, 1e9));
    }
  }
}

await store.putStream(key, endless());
