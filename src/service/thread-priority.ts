import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Linux keeps a nice value per thread, and threads inherit their creator's: lowering the calling
 * worker thread's (before it starts compute threads of its own, as ONNX Runtime does) makes its work
 * yield the CPU to the HTTP thread, so the API stays fast, without slowing down on an idle core.
 * Elsewhere there is no per-thread priority to set, and this does nothing.
 */
export function lowerThisThreadsPriority(nice: number | undefined): void {
  if (!nice) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {}
}
