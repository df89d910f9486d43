import sharp from 'sharp';
import type { RgbImage } from '../../model/backend.ts';

/**
 * The model renders at its native resolution; clients get the size they asked for. Aspect-preserving
 * cover + centre crop, so a model that rounds the aspect ratio does not stretch the picture.
 */
export async function encodeOutputImage(image: RgbImage, width: number, height: number, format: 'jpeg' | 'png'): Promise<Buffer> {
  const pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
  const sized = image.width === width && image.height === height ? pipeline : pipeline.resize(width, height, { fit: 'cover', kernel: 'lanczos3' });
  return format === 'png' ? sized.png().toBuffer() : sized.jpeg({ quality: 92, mozjpeg: false }).toBuffer();
}
