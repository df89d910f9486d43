// Large bytes (dataset images, LoRAs, checkpoints, samples, previews) live outside the database.
// Keys are slash-separated relative paths such as "finetunes/<id>/lora.safetensors".

export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Removes every blob whose key starts with prefix + "/". */
  deletePrefix(prefix: string): Promise<void>;
  /** The next path segment of every key under prefix + "/" (e.g. the ids under "finetunes"), with when it last changed. */
  listChildren(prefix: string): Promise<{ name: string; modifiedMs: number }[]>;
  /** Removes what writes interrupted by a crash left behind, if older than olderThanMs; returns how many. */
  removeIncompleteWrites(olderThanMs: number): Promise<number>;
}

const SAFE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Keys are built by us from UUIDs, but a bad key must never escape the blob root. */
export function assertSafeBlobKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split('/').includes('..')) throw new Error(`unsafe blob key: ${JSON.stringify(key)}`);
}
