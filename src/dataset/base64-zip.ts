import { DatasetRejection } from './dataset-rejection.ts';

const DATA_URL_PREFIX = /^data:[^,]*?,/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** file_data → ZIP bytes. Tolerates a `data:…;base64,` prefix and line breaks (some encoders wrap at 76). */
export function decodeBase64Zip(fileData: string, maxZipBytes: number): Buffer {
  const body = fileData.trim().replace(DATA_URL_PREFIX, '').replace(/\s+/g, '');
  if (body.length === 0) throw new DatasetRejection('file_data is empty');
  if (!BASE64.test(body)) throw new DatasetRejection('file_data is not valid base64');
  // Checked before decoding so an oversized upload costs no extra memory.
  if (Math.floor((body.length * 3) / 4) > maxZipBytes + 3) {
    throw new DatasetRejection(`the ZIP is larger than the ${Math.round(maxZipBytes / 1024 / 1024)} MB limit`);
  }
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) {
    // An empty ZIP is only an end-of-central-directory record, which has no images either.
    if (bytes.length >= 22 && bytes.readUInt32LE(0) === 0x06054b50) throw new DatasetRejection('the ZIP is empty: it contains no images');
    throw new DatasetRejection('file_data is not a ZIP archive');
  }
  return bytes;
}
