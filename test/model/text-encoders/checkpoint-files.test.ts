// CheckpointFiles: a component folder's safetensors read one tensor at a time — F32 as is, F16
// and BF16 widened (FLUX.1's text encoders ship in bfloat16), F64 narrowed unless kept; shards
// through model.safetensors.index.json or every *.safetensors; broken folders named.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeFloats, serializeSafetensors } from '../../../src/engine/safetensors.ts';
import { CheckpointFiles } from '../../../src/model/text-encoders/checkpoint-files.ts';

const root = mkdtempSync(join(tmpdir(), 'fluxtune-checkpoint-files-'));
after(() => rmSync(root, { recursive: true, force: true }));
const values = Float32Array.from([1.5, -2, 0.25, 61440, -0.0078125, 3]);

function folder(name: string, files: Record<string, Record<string, 'F32' | 'F16' | 'BF16' | 'F64'>>, index?: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, tensors] of Object.entries(files)) {
    const entries = Object.entries(tensors).map(([key, dtype]) => [
      key,
      { dtype, shape: [2, 3], data: encodeFloats(dtype === 'F64' ? Float64Array.from(values) : values, dtype) },
    ]);
    writeFileSync(join(dir, file), serializeSafetensors(Object.fromEntries(entries)));
  }
  if (index) writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: index }));
  return dir;
}

describe('CheckpointFiles', () => {
  it('reads F32, F16, BF16 and F64 tensors to float32 (F64 kept on request), with shapes', () => {
    const dir = folder('dtypes', { 'model.safetensors': { a: 'F32', b: 'F16', c: 'BF16', d: 'F64' } });
    const ck = CheckpointFiles.open(dir);
    assert.deepEqual(ck.keys().sort(), ['a', 'b', 'c', 'd']);
    for (const k of ['a', 'b', 'c', 'd']) {
      const t = ck.read(k);
      assert.ok(t instanceof Float32Array, k);
      assert.deepEqual([...t], [...values], k);
      assert.deepEqual(ck.shape(k), [2, 3]);
    }
    assert.equal(ck.dtype('c'), 'BF16');
    assert.ok(ck.read('d', true) instanceof Float64Array);
    assert.throws(() => ck.read('e'), /no tensor 'e'/);
  });

  it('follows model.safetensors.index.json across shards, and reads every file without one', () => {
    const index = { x: 'model-00001-of-00002.safetensors', y: 'model-00002-of-00002.safetensors' };
    const files = { 'model-00001-of-00002.safetensors': { x: 'BF16' as const }, 'model-00002-of-00002.safetensors': { y: 'F32' as const } };
    assert.deepEqual(
      CheckpointFiles.open(folder('indexed', files, index))
        .keys()
        .sort(),
      ['x', 'y'],
    );
    assert.deepEqual(CheckpointFiles.open(folder('plain', files)).keys().sort(), ['x', 'y']);
  });

  it('names a missing shard, a key in two files and an empty folder', () => {
    assert.throws(
      () => CheckpointFiles.open(folder('missing', { 'a.safetensors': { x: 'F32' } }, { x: 'a.safetensors', y: 'b.safetensors' })),
      /the index names .*b\.safetensors, which is missing/,
    );
    assert.throws(() => CheckpointFiles.open(folder('twice', { 'a.safetensors': { x: 'F32' }, 'b.safetensors': { x: 'F16' } })), /'x' is in both/);
    assert.throws(() => CheckpointFiles.open(folder('empty', {})), /no safetensors files/);
  });
});
