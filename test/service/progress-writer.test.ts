// The progress writer: PGlite runs each UPDATE on the HTTP thread, so progress is written at most once a second.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('throttledProgressWriter', () => {
  it('writes the first report at once, then at most once a second, the last of a burst included', async () => {
    const { writes, ctx } = recordingCtx();
    const w = throttledProgressWriter(ctx);
    const t0 = Date.now();
    for (let i = 1; i <= 25; i++) {
      w.report(i / 100);
      await sleep(60);
    }
    // ~1.5 s of reports every 60 ms: the first, one a second later, and the burst's last when its second is up.
    await sleep(1100);
    assert.deepEqual(
      writes.map((x) => x.progress),
      [writes[0]!.progress, writes[1]!.progress, 0.25],
    );
    assert.equal(writes[0]!.progress, 0.01);
    assert.ok(writes[0]!.at - t0 < 20);
    for (let i = 1; i < writes.length; i++) assert.ok(writes[i]!.at - writes[i - 1]!.at >= 990, `${writes[i]!.at - writes[i - 1]!.at} ms apart`);
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
});
