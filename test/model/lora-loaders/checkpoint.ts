// What the loaders see: a LoRA file decoded as a torch user of `safetensors` would (an
// independent little reader, so our own parser is not what checks our own writer), and a base
// checkpoint's state-dict keys and shapes (FLUX.1-dev from its manifest, flux-mini from the
// header of its shipped file), no weights loaded.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface FileTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface LoraFile {
  tensors: Map<string, FileTensor>;
  metadata: Record<string, string>;
}

function widen(dtype: string, bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  if (dtype === 'F32') return new Float32Array(copy.buffer);
  const halves = new Uint16Array(copy.buffer);
  const out = new Float32Array(halves.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
    return out;
  }
  if (dtype === 'F16') {
    for (let i = 0; i < halves.length; i++) {
      const h = halves[i]!;
      const e = (h >> 10) & 31;
      const f = h & 1023;
      const v = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? Number.NaN : Number.POSITIVE_INFINITY) : (1 + f / 1024) * 2 ** (e - 15);
      out[i] = h & 0x8000 ? -v : v;
    }
    return out;
  }
  throw new Error(`unexpected dtype ${dtype}`);
}

const SIZE: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** safetensors: u64 header length, JSON header, then the data; every tensor's offsets must tile the data exactly. */
export function readLoraFile(buf: Uint8Array): LoraFile {
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const tensors = new Map<string, FileTensor>();
  let metadata: Record<string, string> = {};
  let covered = 0;
  for (const [key, t] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = t as unknown as Record<string, string>;
      continue;
    }
    const [start, end] = t.data_offsets;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (end - start !== count * SIZE[t.dtype]!) throw new Error(`${key}: ${end - start} bytes for ${t.dtype}[${t.shape}]`);
    covered += end - start;
    tensors.set(key, { dtype: t.dtype, shape: t.shape, data: widen(t.dtype, buf.subarray(base + start, base + end)) });
  }
  if (covered !== buf.length - base) throw new Error(`the tensors cover ${covered} of ${buf.length - base} data bytes`);
  for (const v of Object.values(metadata)) if (typeof v !== 'string') throw new Error('__metadata__ values must be strings');
  return { tensors, metadata };
}

export interface Checkpoint {
  /** BFL FluxParams. */
  params: { hidden_size: number; mlp_ratio: number; depth: number; depth_single_blocks: number; guidance_embed: boolean };
  /** The transformer's state dict, BFL keys → shapes. */
  tensors: Map<string, number[]>;
}

/** ../shared/vectors/flux1-manifests/flux1-dev.json: the released checkpoint's keys and shapes. */
export function flux1Dev(): Checkpoint {
  const json = JSON.parse(readFileSync(new URL('../../../../shared/vectors/flux1-manifests/flux1-dev.json', import.meta.url), 'utf8')) as {
    params: Checkpoint['params'];
    tensors: Record<string, number[]>;
  };
  return { params: json.params, tensors: new Map(Object.entries(json.tensors)) };
}

/** The shipped flux-mini checkpoint: its transformer's keys and shapes from the file's header. */
export function fluxMini(): Checkpoint {
  const dir = new URL('../../../models/flux-mini/', import.meta.url);
  const config = JSON.parse(readFileSync(new URL('config.json', dir), 'utf8')) as { flux: Checkpoint['params'] };
  const fd = openSync(new URL('flux-mini.safetensors', dir), 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const header = Buffer.alloc(Number(len.readBigUInt64LE(0)));
    readSync(fd, header, 0, header.length, 8);
    const entries = Object.entries(JSON.parse(header.toString('utf8')) as Record<string, { shape: number[] }>);
    const flux = entries.filter(
      ([k]) => k !== '__metadata__' && /^(img_in|txt_in|time_in|vector_in|guidance_in|double_blocks|single_blocks|final_layer)\./.test(k),
    );
    return { params: config.flux, tensors: new Map(flux.map(([k, v]) => [k, v.shape])) };
  } finally {
    closeSync(fd);
  }
}
