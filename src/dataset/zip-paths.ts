import { extname } from 'node:path';

export type EntryKind = 'image' | 'caption' | 'unsupported-image' | 'other';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
// Image formats people put in ZIPs that we cannot train on: refused by name rather than silently skipped.
const UNSUPPORTED_IMAGE_EXTENSIONS = new Set([
  '.gif',
  '.bmp',
  '.tif',
  '.tiff',
  '.heic',
  '.heif',
  '.avif',
  '.svg',
  '.ico',
  '.jxl',
  '.jp2',
  '.psd',
  '.raw',
  '.cr2',
  '.cr3',
  '.nef',
  '.arw',
  '.dng',
  '.orf',
  '.rw2',
  '.exr',
  '.hdr',
  '.tga',
]);

/** A reason to refuse the whole upload because of this entry's name, or null when the name is safe. */
export function unsafePathReason(path: string): string | null {
  if (path.includes('\0')) return 'file name contains a NUL byte';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute paths are not allowed';
  if (path.split('/').includes('..')) return "path traversal ('..') is not allowed";
  return null;
}

/** macOS resource forks and hidden files (.DS_Store, ._photo.jpg, .git/…) are not part of a dataset. */
export function isIgnoredPath(path: string): boolean {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return parts.some((p) => p.startsWith('.')) || parts[0] === '__MACOSX';
}

export function entryKind(path: string): EntryKind {
  const ext = extname(path).toLowerCase();
  if (IMAGE_EXTENSIONS.has(ext)) return 'image';
  if (ext === '.txt') return 'caption';
  if (UNSUPPORTED_IMAGE_EXTENSIONS.has(ext)) return 'unsupported-image';
  return 'other';
}

/** "photos/cat.JPG" → "photos/cat": images and captions pair on this. */
export function pathStem(path: string): string {
  const ext = extname(path);
  return ext ? path.slice(0, -ext.length) : path;
}

/** Unix mode bits live in the high 16 bits of the external attributes when the creator is Unix (3) or macOS (19). */
export function isSymlinkEntry(versionMadeBy: number, externalFileAttributes: number): boolean {
  const creator = versionMadeBy >> 8;
  if (creator !== 3 && creator !== 19) return false;
  return ((externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}
