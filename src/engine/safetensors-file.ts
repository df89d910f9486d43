// A safetensors file read from disk one tensor at a time: the header first, then each tensor by
// its offset into its own buffer. A FLUX.1 checkpoint is 24 GB (bf16) in one file; a Node Buffer
// stops at 4 GiB and holding the file twice (bytes + converted floats) would double the peak, so
// the file is never read whole. F32 data is read straight into the Float32Array it is returned
// as; F16/BF16 pass through one 2-byte buffer and widen to float32.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { bf16ToF32, f16ToF32, type StDType } from './safetensors.ts';

export interface StEntry {
  dtype: StDType;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  offset: number;
  byteLength: number;
}

const BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };
/** readSync reads at most 2 GiB − 1 per call. */
const CHUNK = 1 << 30;

export class SafetensorsFile {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly entries: ReadonlyMap<string, StEntry>,
    readonly metadata: Record<string, string>,
  ) {
    this.fd = fd;
  }

  /** Opens `path` and parses its header (the only part read now). */
  static open(path: string): SafetensorsFile {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(8);
      if (size < 8 || readSync(fd, head, 0, 8, 0) !== 8) throw new Error(`${path}: shorter than a safetensors header`);
      const headerLen = Number(head.readBigUInt64LE(0));
      if (headerLen > 100_000_000 || 8 + headerLen > size) throw new Error(`${path}: header length ${headerLen} does not fit the file (${size} bytes)`);
      const json = Buffer.alloc(headerLen);
      readFully(fd, json, 8);
      const header = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
      const base = 8 + headerLen;
      const entries = new Map<string, StEntry>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header)) {
        if (name === '__metadata__') {
          metadata = raw as Record<string, string>;
          continue;
        }
        const { dtype, shape, data_offsets } = raw as { dtype: StDType; shape: number[]; data_offsets: [number, number] };
        if (!(dtype in BYTES)) throw new Error(`${path}: tensor '${name}' has unsupported dtype ${dtype}`);
        const [start, end] = data_offsets;
        const n = shape.reduce((a, b) => a * b, 1);
        if (end - start !== n * BYTES[dtype] || base + end > size) throw new Error(`${path}: tensor '${name}' has inconsistent offsets`);
        entries.set(name, { dtype, shape, offset: base + start, byteLength: end - start });
      }
      return new SafetensorsFile(path, fd, entries, metadata);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private entry(name: string): StEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor '${name}'`);
    return e;
  }

  /** The tensor's stored bytes, in a buffer of its own (8-byte aligned, so any typed view fits). */
  readBytes(name: string): Uint8Array {
    const e = this.entry(name);
    const out = new Uint8Array(new ArrayBuffer(e.byteLength));
    readFully(this.descriptor(), out, e.offset);
    return out;
  }

  /** A float tensor as float32 (F16/BF16 widened, F64 narrowed). */
  readFloat32(name: string): Float32Array {
    const e = this.entry(name);
    switch (e.dtype) {
      case 'F32':
        return new Float32Array(this.readBytes(name).buffer);
      case 'F16':
        return f16ToF32(new Uint16Array(this.readBytes(name).buffer));
      case 'BF16':
        return bf16ToF32(new Uint16Array(this.readBytes(name).buffer));
      case 'F64':
        return Float32Array.from(new Float64Array(this.readBytes(name).buffer));
      default:
        throw new Error(`${this.path}: '${name}' is ${e.dtype}, not a float tensor`);
    }
  }

  /** Total bytes of tensor data (what loading everything would read). */
  get dataBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.byteLength;
    return n;
  }

  private descriptor(): number {
    if (this.fd === undefined) throw new Error(`${this.path}: already closed`);
    return this.fd;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.byteLength - done), position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}
