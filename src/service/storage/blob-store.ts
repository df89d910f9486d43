// Large bytes (dataset images, LoRAs, checkpoints, samples, previews) live outside the database.
// Keys are slash-separated relative paths such as "finetunes/<id>/lora.safetensors".
// Implementations: LocalBlobStore (a directory) and S3BlobStore (any S3-compatible bucket); both pass
// test/service/blob-store-contract.test.ts.

import type { Readable } from 'node:stream';

export interface BlobStore {
  /** Atomic: readers see the old blob or the whole new one, never part of one (a crash included). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** As put, from a stream, so a large object is never held whole in memory. */
  putStream(key: string, body: Readable | AsyncIterable<Uint8Array>): Promise<void>;
  /** null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  /** The blob as a stream (for serving it), or null when absent. */
  getStream(key: string): Promise<Readable | null>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Removes every blob whose key starts with prefix + "/". */
  deletePrefix(prefix: string): Promise<void>;
  /** The next path segment of every key under prefix + "/" (e.g. the ids under "finetunes"), with when it last changed. */
  listChildren(prefix: string): Promise<{ name: string; modifiedMs: number }[]>;
  /** Removes what writes interrupted by a crash left behind, if older than olderThanMs; returns how many. */
  removeIncompleteWrites(olderThanMs: number): Promise<number>;
  /** A URL that GETs the blob without credentials for ttlSeconds, where the store can hand one out and the deployment wants it. */
  presignedDownloadUrl?(key: string, ttlSeconds: number): Promise<string>;
}

const SAFE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Keys are built by us from UUIDs, but a bad key must never escape the blob root. */
export function assertSafeBlobKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split('/').includes('..')) throw new Error(`unsafe blob key: ${JSON.stringify(key)}`);
}
