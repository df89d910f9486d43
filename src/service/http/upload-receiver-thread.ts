// The upload receiver (UploadPool): gathers the chunks of every upload in flight into memory of the
// body's size, then hands each finished body (transferred) to the ingest thread the pool names. It does
// nothing else, so it keeps up with the socket and the HTTP thread's copies never pile up.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { lowerThisThreadsPriority } from '../thread-priority.ts';
import type { IngestTask, ToReceiver, UploadChunk } from './upload-thread-protocol.ts';

const port = parentPort!;
const { nice } = workerData as { nice?: number };
// Parses and decodes at a lower priority than the HTTP thread: on a busy machine, polls win the CPU.
lowerThisThreadsPriority(nice);

/** Bodies of unknown length (chunked) are gathered in blocks of this size; the ingest thread joins them. */
const BLOCK = 4 << 20;

interface Body {
  blocks: Uint8Array[];
  /** Bytes in the last block. */
  used: number;
  length: number;
  ended: boolean;
  dispatch: Extract<ToReceiver, { type: 'dispatch' }> | null;
}

const bodies = new Map<number, Body>();
const threads = new Map<number, MessagePort>();

port.on('message', (m: ToReceiver) => {
  switch (m.type) {
    case 'thread':
      threads.set(m.thread, m.port);
      return;
    case 'begin': {
      const body: Body = { blocks: [new Uint8Array(m.length ?? BLOCK)], used: 0, length: 0, ended: false, dispatch: null };
      bodies.set(m.upload, body);
      m.port.on('message', (chunk: UploadChunk) => {
        if (chunk instanceof Uint8Array) {
          append(body, chunk);
          return;
        }
        body.ended = true;
        m.port.close();
        send(m.upload);
      });
      // The client went away (or the HTTP thread gave up on it): its bytes go.
      m.port.on('close', () => {
        if (!body.ended) bodies.delete(m.upload);
      });
      return;
    }
    case 'dispatch': {
      const body = bodies.get(m.upload);
      if (!body) return;
      body.dispatch = m;
      send(m.upload);
      return;
    }
  }
});

function append(body: Body, chunk: Uint8Array): void {
  let at = 0;
  while (at < chunk.length) {
    let block = body.blocks.at(-1)!;
    if (body.used === block.length) {
      block = new Uint8Array(BLOCK);
      body.blocks.push(block);
      body.used = 0;
    }
    const n = Math.min(chunk.length - at, block.length - body.used);
    block.set(chunk.subarray(at, at + n), body.used);
    body.used += n;
    at += n;
  }
  body.length += chunk.length;
}

function send(upload: number): void {
  const body = bodies.get(upload);
  if (!body?.ended || !body.dispatch) return;
  bodies.delete(upload);
  const blocks = body.blocks.map((b) => b.buffer as ArrayBuffer);
  const task: IngestTask = { ...body.dispatch.task, blocks, length: body.length };
  threads.get(body.dispatch.thread)?.postMessage(task, blocks);
}
