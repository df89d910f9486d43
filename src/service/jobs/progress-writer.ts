import { type LossPoint, setFinetuneProgress } from '../tasks/finetune-store.ts';
import { setTaskProgress } from '../tasks/task-store.ts';
import type { JobContext } from './job-context.ts';

/**
 * Embedded PGlite runs every statement on the HTTP thread (an UPDATE is 3–15 ms of it on a busy 2-core
 * box, measured by bench:api's probe), so progress is written once a second, not four times: polls
 * see it at most a second late, and a finetune takes minutes.
 */
const PROGRESS_WRITE_INTERVAL_MS = 1000;

/**
 * Trainers and samplers report often; the database hears at most once per interval (and only a
 * changed value), in order, never blocking the model. Progress stays below 1 until finishTask marks
 * the task Ready. With `lossLog` (finetunes), each report's step and loss are kept and appended to the
 * finetune's loss log in the same statement as the progress, so the loss curve costs no extra write.
 */
export function throttledProgressWriter(ctx: JobContext, opts: { lossLog?: boolean } = {}) {
  let last = Number.NEGATIVE_INFINITY; // never written: the first report goes out at once, whatever the clock reads
  let written: number | null = null;
  let pending: number | null = null;
  let points: LossPoint[] = [];
  let chain: Promise<void> = Promise.resolve();
  const write = (p: number) => {
    if (p === written && points.length === 0) return;
    written = p;
    const batch = points;
    points = [];
    chain = chain.then(() => (batch.length > 0 ? setFinetuneProgress(ctx.db, ctx.job.id, p, batch) : setTaskProgress(ctx.db, ctx.job.id, p))).catch(() => {});
  };
  let trailing: NodeJS.Timeout | null = null;
  const writePending = () => {
    trailing = null;
    if (pending === null) return;
    last = Date.now();
    write(pending);
    pending = null;
  };
  return {
    report(p: number, info?: { step: number; loss: number }) {
      // JSON has no NaN: a step without a finite loss is left out of the curve.
      if (opts.lossLog && info && Number.isFinite(info.loss)) points.push([info.step, info.loss, Date.now()]);
      pending = Math.max(0, Math.min(0.999, p));
      if (Date.now() - last >= PROGRESS_WRITE_INTERVAL_MS) {
        if (trailing) clearTimeout(trailing);
        writePending();
      } else if (!trailing) {
        // The last report of a burst is written when the interval is up, even if no other follows.
        trailing = setTimeout(writePending, last + PROGRESS_WRITE_INTERVAL_MS - Date.now());
        trailing.unref();
      }
    },
    async flush() {
      if (trailing) clearTimeout(trailing);
      writePending();
      await chain;
    },
  };
}
