import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  bf16ToF32,
  encodeFloats,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  parseSafetensors,
  serializeSafetensors,
  toFloat32,
  toFloat64,
} from '../../src/engine/safetensors.ts';

const vectors = new URL('../../../shared/vectors/flux-tiny/', import.meta.url);

describe('safetensors', () => {
  it('reads the reference flux-tiny weights (F32) and cases (F64)', () => {
    const w = parseSafetensors(readFileSync(new URL('weights.safetensors', vectors)));
    const qkv = w.tensors.get('double_blocks.0.img_attn.qkv.weight');
    assert.ok(qkv, 'BFL key present');
    assert.equal(qkv.dtype, 'F32');
    assert.deepEqual(qkv.shape, [192, 64]);
    assert.equal(toFloat32(qkv).length, 192 * 64);
    const c = parseSafetensors(readFileSync(new URL('case_forward_backward.safetensors', vectors)));
    assert.equal(c.tensors.get('img')!.dtype, 'F64');
    assert.equal(toFloat64(c.tensors.get('img')!).length, 2 * 16 * 16);
  });

  it('round-trips every float dtype with metadata', () => {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: any value that f16 and bf16 round differently; not π.
    const data = Float32Array.from([0, 1, -2.5, 65504, 1e-5, 3.14159]);
    const file = serializeSafetensors(
      {
        f32: { dtype: 'F32', shape: [2, 3], data },
        f64: { dtype: 'F64', shape: [6], data: encodeFloats(data, 'F64') },
        f16: { dtype: 'F16', shape: [3, 2], data: encodeFloats(data, 'F16') },
        bf16: { dtype: 'BF16', shape: [6], data: encodeFloats(data, 'BF16') },
      },
      { format: 'pt' },
    );
    const back = parseSafetensors(file);
    assert.deepEqual(back.metadata, { format: 'pt' });
    assert.deepEqual(toFloat32(back.tensors.get('f32')!), data);
    assert.deepEqual(toFloat32(back.tensors.get('f64')!), data);
    const f16 = toFloat32(back.tensors.get('f16')!);
    const bf16 = toFloat32(back.tensors.get('bf16')!);
    data.forEach((x, i) => {
      assert.ok(Math.abs(f16[i]! - x) <= Math.abs(x) * 1e-3 + 1e-7, `f16 ${f16[i]} vs ${x}`);
      assert.ok(Math.abs(bf16[i]! - x) <= Math.abs(x) * 8e-3, `bf16 ${bf16[i]} vs ${x}`);
    });
    // Tensor data is 8-byte aligned after the header, as the reference writer guarantees.
    const headerLen = Number(new DataView(file.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLen) % 8, 0);
  });

  it('half-precision conversions match IEEE 754 bit patterns', () => {
    // 1.0 = 0x3c00, -2 = 0xc000, 65504 = 0x7bff (max), 2^-24 = 0x0001 (min subnormal), 1/3 ≈ 0x3555
    assert.deepEqual(Array.from(f32ToF16(Float32Array.from([1, -2, 65504, 2 ** -24, 1 / 3, 1e6]))), [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00]);
    assert.deepEqual(Array.from(f16ToF32(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]))), [1, -2, 65504, 2 ** -24]);
    // bf16 keeps the float32 exponent: 1.0 = 0x3f80, -2 = 0xc000; 1/3 rounds to 0x3eab.
    assert.deepEqual(Array.from(f32ToBf16(Float32Array.from([1, -2, 1 / 3]))), [0x3f80, 0xc000, 0x3eab]);
    assert.deepEqual(Array.from(bf16ToF32(Uint16Array.from([0x3f80, 0xc000]))), [1, -2]);
  });

  it('rejects truncated files', () => {
    const file = serializeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    assert.throws(() => parseSafetensors(file.subarray(0, file.length - 4)), /inconsistent offsets|exceeds/);
  });
});
