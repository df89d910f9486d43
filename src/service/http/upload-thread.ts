// An ingest thread (UploadPool): ingests POST /v1/finetune bodies off the HTTP thread, one at a time.
// Bodies come from the receiver thread on the port the pool hands over first; outcomes go to the HTTP thread.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { lowerThisThreadsPriority } from '../thread-priority.ts';
import { ingestUpload } from './upload-ingest.ts';
import type { FromIngestThread, IngestTask } from './upload-thread-protocol.ts';

const port = parentPort!;
const { nice } = workerData as { nice?: number };

// Parses and decodes at a lower priority than the HTTP thread: on a busy machine, polls win the CPU.
lowerThisThreadsPriority(nice);

port.once('message', ({ inbox }: { inbox: MessagePort }) => {
  inbox.on('message', (task: IngestTask) => {
    void run(task).then(
      ({ message, transfer }) => port.postMessage(message, transfer),
      (err: Error) => port.postMessage({ id: task.id, ok: false, error: err.stack ?? err.message } satisfies FromIngestThread),
    );
  });
});

async function run(task: IngestTask): Promise<{ message: FromIngestThread; transfer: ArrayBuffer[] }> {
  const outcome = await ingestUpload(joined(task.blocks, task.length), task.limits, task.maxFieldBytes);
  const transfer: ArrayBuffer[] = [];
  if (outcome.kind === 'parsed' && outcome.dataset) {
    // Each PNG in memory of its own, handed over rather than copied again on the HTTP thread.
    for (const image of outcome.dataset) {
      const own = new Uint8Array(image.png.length);
      own.set(image.png);
      image.png = Buffer.from(own.buffer);
      transfer.push(own.buffer);
    }
  }
  return { message: { id: task.id, ok: true, outcome }, transfer };
}

/** The body in one Buffer: as it came when its length was declared, else its blocks copied here (not on the HTTP thread). */
function joined(blocks: ArrayBuffer[], length: number): Buffer {
  if (blocks.length === 1) return Buffer.from(blocks[0]!, 0, length);
  const out = Buffer.from(new ArrayBuffer(length));
  let at = 0;
  for (let i = 0; i < blocks.length && at < length; i++) {
    const block = new Uint8Array(blocks[i]!, 0, Math.min(blocks[i]!.byteLength, length - at));
    out.set(block, at);
    at += block.length;
    blocks[i] = new ArrayBuffer(0);
  }
  return out;
}
