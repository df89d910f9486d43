import sharp from 'sharp';
import type { RgbImage } from '../model/backend.ts';

/** Any image sharp reads → the model's RGB8 layout (alpha flattened onto white, orientation applied). */
export async function decodeToRgb(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** RGB8 → PNG bytes. */
export async function encodeRgbPng(image: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png()
    .toBuffer();
}
