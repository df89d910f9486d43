// Builds ZIPs for tests: well-formed ones with yazl, hostile ones by patching yazl's bytes
// (yazl itself refuses to write traversal paths, which is exactly why we patch them in).
import { deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import yazl from 'yazl';

export interface FixtureEntry {
  name: string;
  data: Buffer | string;
  mode?: number;
  compress?: boolean;
}

export async function buildZip(entries: FixtureEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.name.endsWith('/')) {
      zip.addEmptyDirectory(e.name.slice(0, -1), { mtime: new Date(2024, 0, 1) });
      continue;
    }
    zip.addBuffer(typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data, e.name, {
      mode: e.mode,
      compress: e.compress ?? true,
      mtime: new Date(2024, 0, 1),
    });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Replaces every occurrence of a same-length file name (local header + central directory). */
export function renameInPlace(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('names must have the same byte length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let at = out.indexOf(needle);
  let n = 0;
  while (at !== -1) {
    Buffer.from(to).copy(out, at);
    at = out.indexOf(needle, at + needle.length);
    n++;
  }
  if (n !== 2) throw new Error(`expected 2 occurrences of ${from}, found ${n}`);
  return out;
}

/** Rewrites the sizes one entry's central-directory record declares (the "lying header" bomb). */
export function patchCentralSizes(zip: Buffer, name: string, sizes: { compressed?: number; uncompressed?: number }): Buffer {
  const out = Buffer.from(zip);
  const nameBytes = Buffer.from(name);
  for (let i = 0; i + 46 <= out.length; i++) {
    if (out.readUInt32LE(i) !== 0x02014b50) continue;
    const len = out.readUInt16LE(i + 28);
    if (!out.subarray(i + 46, i + 46 + len).equals(nameBytes)) continue;
    if (sizes.compressed !== undefined) out.writeUInt32LE(sizes.compressed, i + 20);
    if (sizes.uncompressed !== undefined) out.writeUInt32LE(sizes.uncompressed, i + 24);
    return out;
  }
  throw new Error(`no central record for ${name}`);
}

/** Rewrites one entry's CRC-32 in its local header and its central record (a corrupted archive). */
export function patchCrc(zip: Buffer, name: string, crc: number): Buffer {
  return patchBothHeaders(zip, name, (out, at, kind) => out.writeUInt32LE(crc >>> 0, at + (kind === 'local' ? 14 : 16)));
}

/** Sets the "encrypted" general-purpose bit of one entry without encrypting anything. */
export function setEncryptedFlag(zip: Buffer, name: string): Buffer {
  return patchBothHeaders(zip, name, (out, at, kind) => {
    const flagAt = at + (kind === 'local' ? 6 : 8);
    out.writeUInt16LE(out.readUInt16LE(flagAt) | 1, flagAt);
  });
}

function patchBothHeaders(zip: Buffer, name: string, patch: (out: Buffer, at: number, kind: 'local' | 'central') => void): Buffer {
  const out = Buffer.from(zip);
  const nameBytes = Buffer.from(name);
  let patched = 0;
  for (let i = 0; i + 46 <= out.length; i++) {
    const sig = out.readUInt32LE(i);
    const kind = sig === 0x04034b50 ? 'local' : sig === 0x02014b50 ? 'central' : null;
    if (!kind) continue;
    const nameAt = i + (kind === 'local' ? 30 : 46);
    const len = out.readUInt16LE(i + (kind === 'local' ? 26 : 28));
    if (!out.subarray(nameAt, nameAt + len).equals(nameBytes)) continue;
    patch(out, i, kind);
    patched++;
  }
  if (patched !== 2) throw new Error(`expected a local and a central header for ${name}, patched ${patched}`);
  return out;
}

/** A single stored-by-hand deflate entry: lets a test make highly compressible payloads cheaply. */
export function deflated(bytes: Buffer): Buffer {
  return deflateRawSync(bytes, { level: 9 });
}

export async function solidPng(width: number, height: number, rgb: [number, number, number] = [200, 50, 50]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

export async function solidJpeg(width: number, height: number, orientation?: number): Promise<Buffer> {
  const s = sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 240 } } }).jpeg();
  return (orientation ? s.withMetadata({ orientation }) : s).toBuffer();
}

export async function solidWebp(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 200, b: 0, alpha: 0.5 } } })
    .webp()
    .toBuffer();
}

export async function solidGif(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .gif()
    .toBuffer();
}

export const b64 = (zip: Buffer): string => zip.toString('base64');
