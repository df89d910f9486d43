// The images of a canny, depth or fill request, decoded and checked before anything is stored: each
// refusal is a 422 naming its field. What comes out is at the output size (the input image's size,
// scaled down to at most 1 MP keeping the aspect ratio) and ready to store as the task's blobs.
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import type { ControlKind, StructuralInput } from '../../../api/inference-schemas.ts';
import { DatasetRejection } from '../../../dataset/dataset-rejection.ts';
import type { DatasetLimits } from '../../../dataset/limits.ts';
import { normalizeImage } from '../../../dataset/normalize-image.ts';
import { fieldError } from '../http-errors.ts';

export interface StructuralImages {
  /** The control image (canny, depth) or the image to repaint (fill): RGB PNG at the output size. */
  png: Buffer;
  width: number;
  height: number;
  /** canny / depth: the image already is the edge or depth map (BFL's preprocessed_image). */
  preprocessed: boolean;
  /** fill: greyscale PNG of the same size, 255 = repaint, 0 = keep. */
  maskPng?: Buffer;
}

type Field = 'control_image' | 'preprocessed_image' | 'image' | 'mask';

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export async function decodeStructuralImages(kind: ControlKind, body: StructuralInput, limits: DatasetLimits): Promise<StructuralImages> {
  // Optional fields that were not sent are absent from the parsed body, not undefined-valued: read them loosely.
  const fields = body as Partial<Record<Field, string>>;
  if (kind === 'fill') {
    if (!fields.image && fields.image !== '') throw new Error('a fill request without image passed validation');
    return decodeFill(fields.image, fields.mask, limits);
  }
  // The base routes' preprocessed_image is the map itself and wins over control_image (BFL: control_image is used
  // "if no preprocessed image is provided"). The -finetuned schemas have no such field: one sent there was dropped.
  const preprocessed = fields.preprocessed_image;
  const field: Field = preprocessed ? 'preprocessed_image' : 'control_image';
  const value = preprocessed || fields.control_image;
  if (value === undefined) throw new Error(`a ${kind} request without an image passed validation`);
  const image = await rgbImage(value, field, limits);
  return { ...image, preprocessed: !!preprocessed };
}

/** base64 (a data: prefix and line breaks tolerated, as for file_data) → bytes. */
function base64Bytes(value: string, field: Field): Buffer {
  const text = value
    .trim()
    .replace(/^data:[^,]*?,/, '')
    .replace(/\s+/g, '');
  if (!text) throw fieldError('body', field, `${field} is empty`, value);
  if (!BASE64.test(text)) throw fieldError('body', field, `${field} is not valid base64`, value);
  return Buffer.from(text, 'base64');
}

async function rgbImage(value: string, field: Field, limits: DatasetLimits): Promise<{ png: Buffer; width: number; height: number }> {
  try {
    return await normalizeImage(base64Bytes(value, field), field, limits);
  } catch (err) {
    if (err instanceof DatasetRejection) throw fieldError('body', field, err.message, value);
    throw err;
  }
}

/** Header checks as normalizeImage makes them, for the images it does not decode (the mask); the upright size. */
async function inspect(bytes: Buffer, field: Field, value: string, limits: DatasetLimits): Promise<{ meta: Metadata; width: number; height: number }> {
  const refuse = (reason: string) => fieldError('body', field, `${field}: ${reason}`, value);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxDecodePixels }).metadata();
  } catch (err) {
    throw refuse(`corrupt or unreadable image (${(err as Error).message})`);
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) throw refuse(`not a JPG, PNG or WebP image (its content is ${meta.format ?? 'unknown'})`);
  if (!meta.width || !meta.height) throw refuse('image has no dimensions');
  if (meta.width * meta.height > limits.maxDecodePixels) {
    throw refuse(`image is ${meta.width}×${meta.height}, above the ${limits.maxDecodePixels / 1e6} MP decode limit`);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  return { meta, width: rotated ? meta.height : meta.width, height: rotated ? meta.width : meta.height };
}

/**
 * Fill: the image as RGB, and the mask at its size. An explicit mask wins; without one the image's
 * alpha channel is the mask (transparent = repaint: mask = 255 − alpha). With neither, or an alpha
 * channel that is opaque everywhere, there is nothing to repaint: a 422 at `mask`.
 */
async function decodeFill(imageValue: string, maskValue: string | undefined, limits: DatasetLimits): Promise<StructuralImages> {
  const imageBytes = base64Bytes(imageValue, 'image');
  const original = await inspect(imageBytes, 'image', imageValue, limits);
  const image = await rgbImage(imageValue, 'image', limits);
  const { width, height } = image;
  const open = (bytes: Buffer) => {
    const p = sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxDecodePixels }).autoOrient();
    return original.width === width && original.height === height ? p : p.resize(width, height, { fit: 'fill' });
  };

  let mask: Uint8Array;
  if (maskValue) {
    const maskBytes = base64Bytes(maskValue, 'mask');
    const m = await inspect(maskBytes, 'mask', maskValue, limits);
    if (m.width !== original.width || m.height !== original.height) {
      throw fieldError(
        'body',
        'mask',
        `mask is ${m.width}×${m.height} but image is ${original.width}×${original.height}: the mask must have the image's size`,
        maskValue,
      );
    }
    // A transparent part of a mask keeps the image (flattened onto black); colours count by their luminance.
    mask = await decodeWith('mask', maskValue, () =>
      open(maskBytes).flatten({ background: '#000000' }).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true }),
    );
  } else {
    if (!original.meta.hasAlpha) {
      throw fieldError('body', 'mask', 'send a mask, or an image whose alpha channel is transparent where to repaint: this image has no alpha channel', null);
    }
    const rgba = await decodeWith('image', imageValue, () => open(imageBytes).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true }));
    mask = new Uint8Array(width * height);
    let any = false;
    for (let i = 0; i < mask.length; i++) {
      mask[i] = 255 - rgba[i * 4 + 3]!;
      if (mask[i]) any = true;
    }
    if (!any) {
      throw fieldError(
        'body',
        'mask',
        "send a mask, or an image whose alpha channel is transparent where to repaint: this image's alpha channel is opaque everywhere",
        null,
      );
    }
  }
  const maskPng = await sharp(Buffer.from(mask.buffer, mask.byteOffset, mask.length), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return { ...image, preprocessed: false, maskPng };
}

/** Runs a sharp decode; a failure is the field's 422. Returns the pixels with `channels` per pixel checked. */
async function decodeWith(field: Field, value: string, run: () => Promise<{ data: Buffer; info: OutputInfo }>): Promise<Uint8Array> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await run();
  } catch (err) {
    throw fieldError('body', field, `${field}: corrupt or unreadable image (${(err as Error).message})`, value);
  }
  const { data, info } = out;
  const want = field === 'mask' ? 1 : 4;
  if (info.channels !== want) throw new Error(`${field}: expected ${want} channels after conversion, got ${info.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
