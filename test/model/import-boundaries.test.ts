// Runtime code never imports pretraining or evaluation code: the service loads src/model/index.ts,
// and nothing it reaches may pull in the scene renderer, the emoji data or the benchmarks' metrics.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importsOf, srcName as name, SRC, sourceFiles } from '../support/import-graph.ts';

const OFF_LIMITS = ['model/pretrain/', 'model/eval/'].map((d) => join(SRC, d));
const offLimits = (file: string) => OFF_LIMITS.some((d) => file.startsWith(d));

describe('import boundaries', () => {
  it('nothing reachable from src/model/index.ts is pretraining or evaluation code', () => {
    const root = join(SRC, 'model/index.ts');
    const via = new Map<string, string | null>([[root, null]]);
    const queue = [root];
    while (queue.length) {
      const file = queue.shift()!;
      for (const dep of importsOf(file)) {
        if (via.has(dep)) continue;
        via.set(dep, file);
        queue.push(dep);
      }
    }
    assert.ok(via.has(join(SRC, 'model/flux-mini/captioner.ts')), 'the walk reaches the captioner (the import scan works)');
    const chain = (file: string): string[] => (via.get(file) ? [...chain(via.get(file)!), name(file)] : [name(file)]);
    const reached = [...via.keys()].filter(offLimits).map((f) => chain(f).join(' → '));
    assert.deepEqual(reached, []);
  });

  it('no file of src outside pretraining and evaluation imports them', () => {
    const crossings = sourceFiles(SRC)
      .filter((f) => !offLimits(f))
      .flatMap((f) =>
        importsOf(f)
          .filter(offLimits)
          .map((dep) => `${name(f)} imports ${name(dep)}`),
      );
    assert.deepEqual(crossings, []);
  });

  it('pretraining never imports evaluation code: the novel-concept suite (model/eval) cannot leak into the base model', () => {
    const pretrain = join(SRC, 'model/pretrain/');
    const evaluation = join(SRC, 'model/eval/');
    const crossings = sourceFiles(SRC)
      .filter((f) => f.startsWith(pretrain))
      .flatMap((f) =>
        importsOf(f)
          .filter((dep) => dep.startsWith(evaluation))
          .map((dep) => `${name(f)} imports ${name(dep)}`),
      );
    assert.deepEqual(crossings, []);
    const scripts = sourceFiles(join(SRC, '../scripts')).filter((f) => /(pretrain|train-control)\.ts$/.test(f));
    assert.ok(scripts.length > 0);
    for (const f of scripts)
      assert.deepEqual(
        importsOf(f).filter((dep) => dep.startsWith(evaluation)),
        [],
        name(f),
      );
  });
});
