// The progress writer: PGlite runs each UPDATE on the HTTP thread, so progress is written at most once a second.
// Deterministic: Date and setTimeout are node:test's mock timers, moved by the test.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { JobContext } from '../../src/service/jobs/job-context.ts';
import { throttledProgressWriter } from '../../src/service/jobs/progress-writer.ts';

function recordingCtx() {
  const writes: { at: number; progress: number }[] = [];
  const db = {
    async query(_sql: string, params: unknown[] = []) {
      writes.push({ at: Date.now(), progress: params[1] as number });
      return { rows: [], rowCount: 1 };
    },
  };
  return { writes, ctx: { db, job: { id: 'job' } } as unknown as JobContext };
}

/** Lets the writes already started reach the database (setImmediate is not mocked). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Moves the mocked clock on by `ms`, a millisecond at a time, letting each write started reach the database at its time. */
async function advance(ms: number) {
  await settle();
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await settle();
  }
}

describe('throttledProgressWriter', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('writes the first report at once, then at most once a second, the last of a burst included', async () => {
    const { writes, ctx } = recordingCtx();
    const w = throttledProgressWriter(ctx);
    // 1.5 s of reports every 60 ms (0.01 at 0 ms … 0.25 at 1440 ms): the first at once, the newest when its
    // second is up (0.17, reported at 960 ms, written at 1000 ms), and the burst's last when its second is up.
    for (let i = 1; i <= 25; i++) {
      w.report(i / 100);
      await advance(60);
    }
    await advance(1100);
    assert.deepEqual(writes, [
      { at: 0, progress: 0.01 },
      { at: 1000, progress: 0.17 },
      { at: 2000, progress: 0.25 },
    ]);
    // Nothing new, nothing written; flush writes what is pending, once.
    w.report(0.25);
    await w.flush();
    assert.equal(writes.length, 3);
    w.report(0.5);
    await w.flush();
    assert.equal(writes.at(-1)!.progress, 0.5);
    assert.equal(writes.length, 4);
    // Progress stays below 1 until the task is Ready.
    w.report(2);
    await w.flush();
    assert.equal(writes.at(-1)!.progress, 0.999);
  });

  it('a report a second or more after the last write is written at once, without a timer', async () => {
    const { writes, ctx } = recordingCtx();
    const w = throttledProgressWriter(ctx);
    w.report(0.1);
    await advance(1000);
    w.report(0.2);
    await settle();
    assert.deepEqual(writes, [
      { at: 0, progress: 0.1 },
      { at: 1000, progress: 0.2 },
    ]);
  });
});
