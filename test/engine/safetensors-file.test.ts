// The streaming safetensors reader: the same tensors as the in-memory parser for every float
// dtype, and a file past 4 GiB (sparse, so it costs no disk) whose last tensor is read by offset
// without the file ever being one buffer.

import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeFloats, parseSafetensors, serializeSafetensors, toFloat32 } from '../../src/engine/safetensors.ts';
import { SafetensorsFile } from '../../src/engine/safetensors-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'st-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('SafetensorsFile', () => {
  it('reads each tensor as the in-memory parser does (F32, F16, BF16, F64)', () => {
    const values = Float32Array.from({ length: 24 }, (_, i) => (i - 11) * 0.37);
    const bytes = serializeSafetensors(
      {
        a: { dtype: 'F32', shape: [2, 3, 4], data: encodeFloats(values, 'F32') },
        b: { dtype: 'F16', shape: [24], data: encodeFloats(values, 'F16') },
        c: { dtype: 'BF16', shape: [4, 6], data: encodeFloats(values, 'BF16') },
        d: { dtype: 'F64', shape: [24], data: encodeFloats(values, 'F64') },
      },
      { format: 'pt' },
    );
    const path = join(dir, 'small.safetensors');
    writeFileSync(path, bytes);
    const file = SafetensorsFile.open(path);
    const ref = parseSafetensors(bytes);
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.deepEqual([...file.entries.keys()].sort(), ['a', 'b', 'c', 'd']);
    for (const [name, t] of ref.tensors) {
      assert.deepEqual(file.entries.get(name)!.shape, t.shape);
      assert.deepEqual(Array.from(file.readFloat32(name)), Array.from(toFloat32(t)), name);
    }
    assert.equal(file.dataBytes, 24 * (4 + 2 + 2 + 8));
    file.close();
    assert.throws(() => file.readFloat32('a'), /closed/);
  });

  it('reads a tensor that lies past 4 GiB', (t) => {
    const pad = 4.5 * 2 ** 30;
    const tail = Float32Array.of(1.5, -2, 3.25, 1e-8);
    const json = Buffer.from(
      JSON.stringify({
        pad: { dtype: 'U8', shape: [pad], data_offsets: [0, pad] },
        tail: { dtype: 'F32', shape: [2, 2], data_offsets: [pad, pad + 16] },
      }),
    );
    const path = join(dir, 'large.safetensors');
    const fd = openSync(path, 'w');
    try {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.byteLength));
      writeSync(fd, len, 0, 8, 0);
      writeSync(fd, json, 0, json.byteLength, 8);
      ftruncateSync(fd, 8 + json.byteLength + pad + 16);
      writeSync(fd, new Uint8Array(tail.buffer), 0, 16, 8 + json.byteLength + pad);
    } catch (err) {
      t.skip(`cannot write a sparse 4.5 GiB file here: ${(err as Error).message}`);
      return;
    } finally {
      closeSync(fd);
    }
    const file = SafetensorsFile.open(path);
    assert.equal(file.entries.get('tail')!.offset, 8 + json.byteLength + pad);
    assert.deepEqual(Array.from(file.readFloat32('tail')), Array.from(tail));
    assert.throws(() => file.readFloat32('pad'), /not a float tensor/);
    file.close();
  });

  it('refuses a header that does not fit the file, or offsets past its end', () => {
    const path = join(dir, 'bad.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(1000n);
    writeFileSync(path, Buffer.concat([len, Buffer.from('{}')]));
    assert.throws(() => SafetensorsFile.open(path), /header length 1000/);
    const json = Buffer.from(JSON.stringify({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }));
    len.writeBigUInt64LE(BigInt(json.byteLength));
    writeFileSync(path, Buffer.concat([len, json, Buffer.alloc(8)]));
    assert.throws(() => SafetensorsFile.open(path), /'x' has inconsistent offsets/);
  });
});
