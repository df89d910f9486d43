// Files the user dropped or picked → the dataset's images: ZIPs opened, .txt captions paired, each image
// hashed and decoded by the browser, then checked (dataset-checks.ts).
import { unzipSync } from 'fflate';
import { checkAll, type DatasetImage, type PickedFile } from './dataset-checks.ts';

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
