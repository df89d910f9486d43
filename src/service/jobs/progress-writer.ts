import { setTaskProgress } from '../tasks/task-store.ts';
import type { JobContext } from './job-context.ts';

const PROGRESS_WRITE_INTERVAL_MS = 250;

/**
 * Trainers and samplers report often; the database hears at most every 250 ms, in order, never
 * blocking the model. Progress stays below 1 until finishTask marks the task Ready.
 */
export function throttledProgressWriter(ctx: JobContext) {
  let last = 0;
  let pending: number | null = null;
  let chain: Promise<void> = Promise.resolve();
  const write = (p: number) => {
    chain = chain.then(() => setTaskProgress(ctx.db, ctx.job.id, p)).catch(() => {});
  };
  return {
    report(p: number) {
      const clamped = Math.max(0, Math.min(0.999, p));
      const now = Date.now();
      if (now - last >= PROGRESS_WRITE_INTERVAL_MS) {
        last = now;
        pending = null;
        write(clamped);
      } else {
        pending = clamped;
      }
    },
    async flush() {
      if (pending !== null) write(pending);
      pending = null;
      await chain;
    },
  };
}
