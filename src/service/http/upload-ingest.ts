// What the upload thread does with a POST /v1/finetune body: all of the heavy work between the raw
// bytes and the handler (JSON, base64, the ZIP, the images), none of it on the HTTP thread.
import { decodeBase64ZipInPlace } from '../../dataset/base64-zip.ts';
import { DatasetRejection } from '../../dataset/dataset-rejection.ts';
import { type IngestedImage, ingestZipBytes } from '../../dataset/ingest-zip.ts';
import type { DatasetLimits } from '../../dataset/limits.ts';
import { BodyFieldsTooLarge, JsonSyntaxError, splitJsonBody } from './json-body.ts';
import { deeperThan, MAX_JSON_DEPTH } from './json-depth.ts';

/** The field that carries the ZIP. */
export const UPLOAD_FIELD = 'file_data';

export type UploadOutcome =
  | { kind: 'empty' }
  | { kind: 'json_invalid'; message: string }
  | { kind: 'fields_too_large'; message: string }
  /**
   * `body`: what the route's schema validates, file_data cut to what a 422 echoes of it. When file_data
   * was a string, `dataset` or `rejection` is what ingesting it gave; the handler answers with it
   * after its own checks, in the order it always has.
   */
  | { kind: 'parsed'; body: unknown; dataset?: IngestedImage[]; rejection?: string };

export async function ingestUpload(body: Buffer, limits: DatasetLimits, maxFieldBytes: number): Promise<UploadOutcome> {
  let split: ReturnType<typeof splitJsonBody>;
  try {
    split = splitJsonBody(body, UPLOAD_FIELD, maxFieldBytes);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { kind: 'json_invalid', message: err.message };
    if (err instanceof BodyFieldsTooLarge) return { kind: 'fields_too_large', message: err.message };
    throw err;
  }
  if (split.kind === 'empty') return split;
  // As the validator refuses them (zod-validator.ts), and before they are posted to the HTTP thread,
  // whose structured clone would recurse as deep.
  if (deeperThan(split.value, MAX_JSON_DEPTH)) return { kind: 'json_invalid', message: `nesting deeper than ${MAX_JSON_DEPTH} levels` };
  if (!split.big) return { kind: 'parsed', body: split.value };
  try {
    // Decoded where it lies: the ZIP is a view of the body's memory.
    const zip = decodeBase64ZipInPlace(split.big.bytes, limits.maxZipBytes, split.big.source);
    const { images } = await ingestZipBytes(zip, limits);
    return { kind: 'parsed', body: split.value, dataset: images };
  } catch (err) {
    if (err instanceof DatasetRejection) return { kind: 'parsed', body: split.value, rejection: err.message };
    throw err;
  }
}
