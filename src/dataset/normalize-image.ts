import sharp, { type Metadata } from 'sharp';
import { DatasetRejection } from './dataset-rejection.ts';
import type { DatasetLimits } from './limits.ts';

export interface NormalizedImage {
  /** Upright (EXIF orientation applied), sRGB, no alpha, at most maxImagePixels: the training copy. */
  png: Buffer;
  width: number;
  height: number;
}

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

/** Decodes by content, not by extension: a GIF renamed to .jpg is still refused. */
export async function normalizeImage(bytes: Buffer, file: string, limits: DatasetLimits): Promise<NormalizedImage> {
  const open = () => sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxDecodePixels });
  let meta: Metadata;
  try {
    meta = await open().metadata();
  } catch (err) {
    throw new DatasetRejection(`corrupt or unreadable image (${(err as Error).message})`, file);
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new DatasetRejection(`not a JPG, PNG or WebP image (its content is ${meta.format ?? 'unknown'})`, file);
  }
  if (!meta.width || !meta.height) throw new DatasetRejection('image has no dimensions', file);
  if (meta.width * meta.height > limits.maxDecodePixels) {
    throw new DatasetRejection(`image is ${meta.width}×${meta.height}, above the ${limits.maxDecodePixels / 1e6} MP decode limit`, file);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const w = rotated ? meta.height : meta.width;
  const h = rotated ? meta.width : meta.height;
  const scale = Math.min(1, Math.sqrt(limits.maxImagePixels / (w * h)));
  try {
    let pipeline = open().autoOrient();
    if (scale < 1) pipeline = pipeline.resize(Math.max(1, Math.floor(w * scale)), Math.max(1, Math.floor(h * scale)), { fit: 'fill' });
    const { data, info } = await pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').png().toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height };
  } catch (err) {
    throw new DatasetRejection(`corrupt or unreadable image (${(err as Error).message})`, file);
  }
}
