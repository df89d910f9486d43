// safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes. Float tensors are exposed as Float32Array (or Float64Array
// for F64 when asked), converting F16/BF16 on read; writing can store F32, F16, BF16 or F64.

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8';

export interface StTensor {
  dtype: StDType;
  shape: number[];
  /** Raw bytes as stored. */
  bytes: Uint8Array;
}

export interface StFile {
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };

export function parseSafetensors(buf: Uint8Array): StFile {
  if (buf.byteLength < 8) throw new Error('safetensors: file shorter than its header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > buf.byteLength) throw new Error('safetensors: header length exceeds the file');
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  const base = 8 + headerLen;
  const tensors = new Map<string, StTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: StDType; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new Error(`safetensors: tensor '${name}' has unsupported dtype ${dtype}`);
    const [start, end] = data_offsets;
    const n = shape.reduce((a, b) => a * b, 1);
    if (end - start !== n * BYTES[dtype] || base + end > buf.byteLength) {
      throw new Error(`safetensors: tensor '${name}' has inconsistent offsets`);
    }
    tensors.set(name, { dtype, shape, bytes: buf.subarray(base + start, base + end) });
  }
  return { tensors, metadata };
}

/** Copies into a fresh aligned buffer (tensor bytes in a file are not necessarily aligned). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  // Not bytes.slice(): on a Node Buffer that is a view, not a copy.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export function toFloat32(t: StTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(aligned(t.bytes));
    case 'F64':
      return Float32Array.from(new Float64Array(aligned(t.bytes)));
    case 'F16':
      return f16ToF32(new Uint16Array(aligned(t.bytes)));
    case 'BF16':
      return bf16ToF32(new Uint16Array(aligned(t.bytes)));
    default:
      throw new Error(`safetensors: ${t.dtype} is not a float type`);
  }
}

export function toFloat64(t: StTensor): Float64Array {
  return t.dtype === 'F64' ? new Float64Array(aligned(t.bytes)) : Float64Array.from(toFloat32(t));
}

export interface TensorToWrite {
  dtype: StDType;
  shape: readonly number[];
  data: Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;
}

/** Converts float data to the stored representation of `dtype`. */
export function encodeFloats(data: Float32Array | Float64Array, dtype: StDType): TensorToWrite['data'] {
  switch (dtype) {
    case 'F32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'F64':
      return data instanceof Float64Array ? data : Float64Array.from(data);
    case 'F16':
      return f32ToF16(data instanceof Float32Array ? data : Float32Array.from(data));
    case 'BF16':
      return f32ToBf16(data instanceof Float32Array ? data : Float32Array.from(data));
    default:
      throw new Error(`safetensors: cannot encode floats as ${dtype}`);
  }
}

export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name]!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`safetensors: '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const len = n * BYTES[t.dtype];
    if (t.data.byteLength !== len) throw new Error(`safetensors: '${name}' data does not match dtype ${t.dtype}`);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so tensor data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------- half-precision conversions

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Round-to-nearest-even float32 → float16, with overflow to ±Inf and gradual underflow. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    f32[0] = src[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > half || (rest === half && m & 1)) m++;
      out[i] = sign | m;
      continue;
    }
    const rest = mant & 0x1fff;
    let m = mant >>> 13;
    if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
      m++;
      if (m === 0x400) {
        m = 0;
        e++;
        if (e >= 31) {
          out[i] = sign | 0x7c00;
          continue;
        }
      }
    }
    out[i] = sign | (e << 10) | m;
  }
  return out;
}

export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

export function f32ToBf16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    f32[0] = src[i]!;
    const x = u32[0]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    const lsb = (x >>> 16) & 1;
    out[i] = ((x + 0x7fff + lsb) >>> 16) & 0xffff;
  }
  return out;
}
