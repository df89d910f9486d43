import type { MessagePort } from 'node:worker_threads';
import type { DatasetLimits } from '../../dataset/limits.ts';
import type { UploadOutcome } from './upload-ingest.ts';

// Three kinds of thread handle an upload: the HTTP thread reads the socket and posts each chunk as it
// comes (a copy of at most 64 KB, into memory it reuses); the receiver thread gathers them into the
// body's memory (so the page faults of filling 130 MB fresh memory, 0.1–0.4 s, happen there); an
// ingest thread parses and decodes it and answers the HTTP thread.

/** HTTP thread → receiver, on its parentPort. */
export type ToReceiver =
  /** A new upload; its chunks (Uint8Array) and then `{ end: true }` come on `port`, which closes early if the client goes away. */
  | { type: 'begin'; upload: number; length: number | null; port: MessagePort }
  /** The port to ingest thread `thread`'s inbox, where finished bodies go (transferred). */
  | { type: 'thread'; thread: number; port: MessagePort }
  /** Hand upload `upload` (once it has ended) to ingest thread `thread` as `task`. */
  | { type: 'dispatch'; upload: number; thread: number; task: Omit<IngestTask, 'blocks' | 'length'> };

export type UploadChunk = Uint8Array | { end: true };

/** Receiver → an ingest thread: one body, its blocks transferred (nothing keeps a copy). */
export interface IngestTask {
  id: number;
  blocks: ArrayBuffer[];
  /** Bytes of the body in the blocks, in order. */
  length: number;
  limits: DatasetLimits;
  maxFieldBytes: number;
}

/** Ingest thread → HTTP thread: the outcome (the images' memory transferred), or an error that is nobody's fault but ours (a 500). */
export type FromIngestThread = { id: number; ok: true; outcome: UploadOutcome } | { id: number; ok: false; error: string };
