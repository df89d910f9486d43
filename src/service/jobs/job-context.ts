import type { Captioner } from '../../dataset/captioner.ts';
import type { ModelBackend } from '../../model/backend.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Db } from '../storage/db.ts';
import type { ClaimedJob } from './queue.ts';

/** What a job handler may use. It never sees HTTP; results go to the database and the blob store. */
export interface JobContext {
  db: Db;
  blobs: BlobStore;
  backend: ModelBackend;
  captioner: Captioner;
  job: ClaimedJob;
  owner: string;
  signal: AbortSignal;
  /** Called after the task reached a final state, so webhooks go out without waiting for a poll. */
  onFinished(): void;
  /** Operator log (the server's stderr). */
  log(msg: string): void;
}
