// The images of a new finetune, checked in the browser before anything is sent: the same rules the
// server applies to the ZIP (src/dataset: format by content, 20 images, size caps, 1 MP), said per file.
import { unzipSync, zipSync } from 'fflate';

export const MAX_IMAGES = 20;
export const MAX_IMAGE_PIXELS = 1024 * 1024;
const MAX_FILE_BYTES = 64 * 1024 * 1024;
export const MAX_ZIP_BYTES = 100 * 1024 * 1024;
/** Smaller than this on the short side and there is little for the model to learn from. */
const SMALL_SIDE = 256;

export type CaptionSource = 'file' | 'edited' | 'auto';

export interface Check {
  level: 'error' | 'warning' | 'info';
  text: string;
}

export interface DatasetImage {
  key: string;
  name: string;
  bytes: Uint8Array;
  url: string;
  width?: number;
  height?: number;
  format?: 'jpeg' | 'png' | 'webp';
  sha256?: string;
  caption: string;
  captionSource: CaptionSource;
  checks: Check[];
}

/** What the user dropped or picked: a path and its bytes. */
export interface PickedFile {
  path: string;
  bytes: Uint8Array;
}

const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;
const stem = (path: string) => path.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
const baseName = (path: string) => path.replace(/^.*\//, '');
const ignored = (path: string) => path.split('/').some((part) => part.startsWith('.') || part === '__MACOSX');

/** A ZIP's members, as if its files had been picked one by one. */
export function filesOfZip(bytes: Uint8Array): PickedFile[] {
  return Object.entries(unzipSync(bytes))
    .filter(([path]) => !path.endsWith('/'))
    .map(([path, data]) => ({ path, bytes: data }));
}

function sniffFormat(b: Uint8Array): DatasetImage['format'] | undefined {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/**
 * Picked files → images with their paired .txt captions (same stem, case-insensitive), decoded and checked.
 * `existing` are the images already in the list; the new ones are appended and every check is redone.
 */
export async function addFiles(existing: DatasetImage[], picked: PickedFile[]): Promise<{ images: DatasetImage[]; skipped: string[] }> {
  const skipped: string[] = [];
  const captions = new Map<string, string>();
  const images: DatasetImage[] = [...existing];
  for (const f of picked) {
    if (ignored(f.path)) continue;
    if (/\.txt$/i.test(f.path)) captions.set(stem(f.path).toLowerCase(), new TextDecoder().decode(f.bytes).trim());
  }
  for (const f of picked) {
    if (ignored(f.path) || /\.txt$/i.test(f.path)) continue;
    if (/\.zip$/i.test(f.path)) {
      const inner = await addFiles([], filesOfZip(f.bytes));
      images.push(...inner.images);
      skipped.push(...inner.skipped);
      continue;
    }
    const format = sniffFormat(f.bytes);
    if (!format && !IMAGE_EXT.test(f.path)) {
      skipped.push(baseName(f.path));
      continue;
    }
    const caption = captions.get(stem(f.path).toLowerCase());
    images.push({
      key: `${f.path}#${images.length}#${Math.random().toString(36).slice(2)}`,
      name: baseName(f.path),
      bytes: f.bytes,
      url: URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>])),
      format,
      caption: caption ?? '',
      captionSource: caption === undefined ? 'auto' : 'file',
      checks: [],
    });
  }
  await Promise.all(images.map(decodeOnce));
  // A folder's entries come in the file system's order: show them as a file manager would.
  const byName = new Intl.Collator(undefined, { numeric: true }).compare;
  images.sort((a, b) => byName(a.name, b.name));
  // A caption for an image already in the list (dropped later) is paired too.
  for (const img of images) {
    const c = captions.get(stem(img.name).toLowerCase());
    if (c !== undefined && img.captionSource === 'auto') Object.assign(img, { caption: c, captionSource: 'file' as const });
  }
  return { images: checkAll(images), skipped };
}

async function decodeOnce(img: DatasetImage): Promise<void> {
  if (img.sha256 !== undefined) return;
  const digest = await crypto.subtle.digest('SHA-256', img.bytes as Uint8Array<ArrayBuffer>);
  img.sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  if (!img.format) return;
  try {
    const bitmap = await createImageBitmap(new Blob([img.bytes as Uint8Array<ArrayBuffer>]));
    img.width = bitmap.width;
    img.height = bitmap.height;
    bitmap.close();
  } catch {
    // Left without a size: checkAll reports it as unreadable.
  }
}

/** The per-file checks, recomputed over the whole list (duplicates and the count depend on the others). */
export function checkAll(images: DatasetImage[]): DatasetImage[] {
  const firstByHash = new Map<string, string>();
  return images.map((img, i) => {
    const checks: Check[] = [];
    if (!img.format) checks.push({ level: 'error', text: 'Not a JPG, PNG or WebP image (judged by its content, not its name).' });
    else if (img.width === undefined || img.height === undefined) checks.push({ level: 'error', text: 'Corrupt or unreadable: the browser cannot decode it.' });
    if (img.bytes.length > MAX_FILE_BYTES) checks.push({ level: 'error', text: `${mb(img.bytes.length)} is above the 64 MB a file may have.` });
    if (img.width && img.height) {
      const px = img.width * img.height;
      if (px > MAX_IMAGE_PIXELS) {
        const s = Math.sqrt(MAX_IMAGE_PIXELS / px);
        checks.push({
          level: 'info',
          text: `${img.width}×${img.height} is above 1 MP: it trains at ${Math.floor(img.width * s)}×${Math.floor(img.height * s)}.`,
        });
      }
      if (Math.min(img.width, img.height) < SMALL_SIDE) {
        checks.push({ level: 'warning', text: `Small (${img.width}×${img.height}): under ${SMALL_SIDE} px on a side, little detail to learn.` });
      }
    }
    const twin = img.sha256 ? firstByHash.get(img.sha256) : undefined;
    if (twin) checks.push({ level: 'warning', text: `The same image as ${twin}: it would count twice.` });
    else if (img.sha256) firstByHash.set(img.sha256, img.name);
    if (i >= MAX_IMAGES)
      checks.push({ level: 'error', text: `Image ${i + 1} of ${images.length}: a finetune takes at most ${MAX_IMAGES}; remove this one or others.` });
    return { ...img, checks };
  });
}

export const mb = (bytes: number) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

/** The ZIP the API takes: each image under its own name and, where it has one, its caption as name.txt. Stored, not deflated: images do not shrink. */
export function datasetZip(images: DatasetImage[]): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  const used = new Set<string>();
  for (const img of images) {
    let name = img.name;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = img.name.replace(/(\.[^.]*)?$/, `-${n}$1`);
    used.add(name.toLowerCase());
    entries[name] = [img.bytes, { level: 0 }];
    if (img.caption.trim()) entries[`${stem(name)}.txt`] = [new TextEncoder().encode(img.caption.trim()), { level: 0 }];
  }
  return zipSync(entries);
}

export function base64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Every file under a dropped folder (the entries API: a drop of a folder gives entries, not files). */
export async function filesOfDrop(items: DataTransferItemList): Promise<PickedFile[]> {
  const entries = [...items].map((it) => it.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ path: prefix + file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

export async function filesOfInput(list: FileList): Promise<PickedFile[]> {
  return Promise.all(
    [...list].map(async (f) => ({
      path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name,
      bytes: new Uint8Array(await f.arrayBuffer()),
    })),
  );
}
