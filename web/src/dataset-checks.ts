// The images of a new finetune, checked in the browser before anything is sent: the same rules the
// server applies to the ZIP (src/dataset: format by content, 20 images, size caps, 1 MP), said per file.
import { zipSync } from 'fflate';

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

const stem = (path: string) => path.replace(/^.*\//, '').replace(/\.[^.]*$/, '');

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
