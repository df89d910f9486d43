import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { DatasetRejection } from './dataset-rejection.ts';
import type { DatasetLimits } from './limits.ts';
import { type EntryKind, entryKind, isIgnoredPath, isSymlinkEntry, unsafePathReason } from './zip-paths.ts';

export interface ZipMember {
  path: string;
  kind: Extract<EntryKind, 'image' | 'caption'>;
  bytes: Buffer;
}

const MB = 1024 * 1024;

/**
 * Reads the images and captions out of a ZIP held in memory, refusing the whole archive at the first
 * unsafe entry. Sizes are counted as bytes come out of the inflater, so a lying header cannot
 * smuggle a bomb past the caps.
 */
export async function readZipMembers(zip: Buffer, limits: DatasetLimits): Promise<ZipMember[]> {
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await yauzl.fromBufferPromise(zip, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    throw new DatasetRejection(`file_data is not a readable ZIP archive (${(err as Error).message})`);
  }
  if (zipfile.entryCount > limits.maxEntries) {
    zipfile.close();
    throw new DatasetRejection(`the ZIP has ${zipfile.entryCount} entries; at most ${limits.maxEntries} are allowed`);
  }
  const members: ZipMember[] = [];
  let totalBytes = 0;
  let imageCount = 0;
  try {
    for (;;) {
      const entry = await nextEntry(zipfile, zip);
      if (!entry) break;
      const path = entryName(entry);
      const unsafe = unsafePathReason(path);
      if (unsafe) throw new DatasetRejection(unsafe, path);
      if (isSymlinkEntry(entry.versionMadeBy, entry.externalFileAttributes)) {
        throw new DatasetRejection('symbolic links are not allowed', path);
      }
      if (path.endsWith('/') || isIgnoredPath(path)) continue;
      const kind = entryKind(path);
      if (kind === 'other') continue;
      if (kind === 'unsupported-image') throw new DatasetRejection('unsupported image format (use JPG, JPEG, PNG or WebP)', path);
      if (entry.isEncrypted()) throw new DatasetRejection('is encrypted; encrypted ZIP entries are not supported', path);
      if (kind === 'image' && ++imageCount > limits.maxImages) {
        throw new DatasetRejection(`too many images: at most ${limits.maxImages} are allowed and this is image number ${imageCount}`, path);
      }
      const cap = kind === 'caption' ? limits.maxCaptionBytes : limits.maxEntryUncompressedBytes;
      if (entry.uncompressedSize > cap) throw new DatasetRejection(`file is larger than the ${formatBytes(cap)} limit`, path);
      const bytes = await readEntry(zipfile, entry, path, cap, limits, totalBytes);
      totalBytes += bytes.length;
      members.push({ path, kind, bytes });
    }
  } finally {
    zipfile.close();
  }
  if (imageCount === 0) throw new DatasetRejection('the ZIP contains no images (JPG, JPEG, PNG or WebP)');
  return members;
}

function entryName(entry: yauzl.Entry): string {
  // decodeStrings:false lets us name the offending file ourselves instead of yauzl failing the whole read.
  const raw = entry.fileName as unknown as Buffer;
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
}

/**
 * The central-directory record yauzl reads next, peeked at in our own buffer: yauzl refuses some
 * entries (an "encrypted" stored entry without its 12-byte header, say) before it emits them, and
 * its error names no file. `readEntryCursor` is yauzl's offset of that record (not in its types).
 */
function upcomingRecord(zipfile: yauzl.ZipFile, zip: Buffer): { name: string; encrypted: boolean } | null {
  const at = (zipfile as unknown as { readEntryCursor?: number }).readEntryCursor;
  if (at === undefined || at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) return null;
  const flags = zip.readUInt16LE(at + 8);
  const nameLength = zip.readUInt16LE(at + 28);
  const extraLength = zip.readUInt16LE(at + 30);
  const raw = zip.subarray(at + 46, at + 46 + nameLength);
  const extra = zip.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
  return { name: yauzl.getFileNameLowLevel(flags, raw, yauzl.parseExtraFields(extra), false), encrypted: (flags & 1) !== 0 };
}

function nextEntry(zipfile: yauzl.ZipFile, zip: Buffer): Promise<yauzl.Entry | null> {
  const upcoming = zipfile.entriesRead < zipfile.entryCount ? upcomingRecord(zipfile, zip) : null;
  if (upcoming?.encrypted) return Promise.reject(new DatasetRejection('is encrypted; encrypted ZIP entries are not supported', upcoming.name));
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zipfile.off('entry', onEntry);
      zipfile.off('end', onEnd);
      zipfile.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry) => {
      cleanup();
      resolve(e);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new DatasetRejection(`the ZIP is malformed (${err.message})`, upcoming?.name));
    };
    zipfile.once('entry', onEntry);
    zipfile.once('end', onEnd);
    zipfile.once('error', onError);
    zipfile.readEntry();
  });
}

async function readEntry(zipfile: yauzl.ZipFile, entry: yauzl.Entry, path: string, cap: number, limits: DatasetLimits, totalSoFar: number): Promise<Buffer> {
  let stream: Readable;
  try {
    stream = await zipfile.openReadStreamPromise(entry);
  } catch (err) {
    throw new DatasetRejection(`cannot be read (${(err as Error).message})`, path);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let crc = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      crc = crc32(chunk, crc);
      if (size > cap) throw new DatasetRejection(`decompresses to more than the ${formatBytes(cap)} limit (ZIP bomb?)`, path);
      if (totalSoFar + size > limits.maxTotalUncompressedBytes) {
        throw new DatasetRejection(`the ZIP decompresses to more than ${formatBytes(limits.maxTotalUncompressedBytes)} in total (ZIP bomb?)`, path);
      }
      if (size > limits.ratioFloorBytes && size / Math.max(1, entry.compressedSize) > limits.maxCompressionRatio) {
        throw new DatasetRejection(`compression ratio is above ${limits.maxCompressionRatio}:1 (ZIP bomb?)`, path);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof DatasetRejection) throw err;
    const message = (err as Error).message;
    // yauzl's byte-count check: the entry inflates to more than its header declared.
    if (/too many bytes in the stream/.test(message)) {
      throw new DatasetRejection(`decompresses to more bytes than its header declares (${entry.uncompressedSize}); crafted ZIP or bomb`, path);
    }
    throw new DatasetRejection(`is corrupt in the ZIP (${message})`, path);
  }
  // yauzl checks sizes, not contents: a damaged upload inflates "fine" to the wrong bytes.
  if (crc >>> 0 !== entry.crc32 >>> 0) {
    throw new DatasetRejection(`fails its CRC-32 check (the ZIP is damaged: re-create or re-download it)`, path);
  }
  return Buffer.concat(chunks, size);
}

function formatBytes(n: number): string {
  return n >= MB ? `${Math.round(n / MB)} MB` : `${Math.round(n / 1024)} KB`;
}
