import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { TrainRequest } from '../../src/model/backend.ts';
import { ThreadedBackend } from '../../src/service/jobs/threaded-backend.ts';

const request: TrainRequest = {
  examples: [{ image: { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]) }, caption: 'TOK' }],
  iterations: 100,
  learningRate: 1e-4,
  priority: 'speed',
  finetuneType: 'lora',
  loraRank: 16,
  seed: 1,
};

describe('ThreadedBackend: the model runs in a worker thread, hooks cross as messages', () => {
  let backend: ThreadedBackend;
  before(async () => {
    backend = await ThreadedBackend.start({
      module: new URL('./support/deterministic-test-backend.ts', import.meta.url).href,
      exportName: 'loadTestBackend',
      loaderArg: { steps: 6, checkpointEvery: 2, stepDelayMs: 2 },
    });
  });
  after(() => backend.close());

  it('train: progress, awaited checkpoints and previews, result bytes', async () => {
    const progress: number[] = [];
    const checkpoints: number[] = [];
    let previews = 0;
    const result = await backend.train(request, {
      onProgress: (p) => progress.push(p),
      onCheckpoint: async (cp) => {
        await new Promise((r) => setTimeout(r, 5));
        checkpoints.push(cp.step);
      },
      onPreview: () => void previews++,
    });
    assert.equal(backend.name, 'deterministic-test-double');
    assert.equal(result.lora.length, 64);
    assert.deepEqual(checkpoints, [2, 4]);
    assert.equal(previews, 2);
    assert.equal(progress.at(-1), 1);
    // Same inputs, same bytes: the thread boundary does not change results.
    const again = await backend.train(request);
    assert.deepEqual(again.lora, result.lora);
  });

  it('generate and caption', async () => {
    const out = await backend.generate({ prompt: 'x', width: 64, height: 32, steps: 1, guidance: 1, seed: 3 });
    assert.deepEqual([out.image.width, out.image.height], [8, 8]);
    assert.deepEqual(
      (await backend.caption([{ width: 4, height: 2, data: new Uint8Array(24) }])).map((c) => c.text),
      ['a test picture 4 by 2'],
    );
  });

  it('abort crosses the thread', async () => {
    const slow = await ThreadedBackend.start({
      module: new URL('./support/deterministic-test-backend.ts', import.meta.url).href,
      exportName: 'loadTestBackend',
      loaderArg: { steps: 10_000, stepDelayMs: 5 },
    });
    try {
      const controller = new AbortController();
      const p = slow.train(request, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('stop now')), 50);
      await assert.rejects(p, /stop now/);
    } finally {
      await slow.close();
    }
  });
});

describe('ThreadedBackend: model thread priority', () => {
  const niceOfThreads = () =>
    readdirSync('/proc/self/task').map((tid) => {
      // comm may contain spaces and parentheses: the fields after it start at the last ')'.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });

  it('lowers the nice value of the model thread only (Linux), leaving the API thread as it was', {
    skip: !existsSync('/proc/thread-self') && 'no per-thread priorities here',
  }, async () => {
    const before = niceOfThreads().filter((n) => n === 7).length;
    const backend = await ThreadedBackend.start({
      module: new URL('./support/deterministic-test-backend.ts', import.meta.url).href,
      exportName: 'loadTestBackend',
      loaderArg: { steps: 1 },
      nice: 7,
    });
    try {
      assert.equal(niceOfThreads().filter((n) => n === 7).length, before + 1);
      assert.equal(getPriority(), 0, 'the main (HTTP) thread keeps its priority');
    } finally {
      await backend.close();
    }
  });
});
