import type { Readable } from 'node:stream';
import { errorCodes, type FastifyRequest } from 'fastify';
import type { IngestedImage } from '../../dataset/ingest-zip.ts';
import type { DatasetLimits } from '../../dataset/limits.ts';
import { HttpError } from './http-errors.ts';
import type { Upload, UploadPool } from './upload-pool.ts';

/** What the upload thread made of a request's file_data: the images, or why the ZIP was refused. */
export type IngestedUpload = { images: IngestedImage[] } | { rejection: string };

const ingested = new WeakMap<FastifyRequest, IngestedUpload>();

/** The dataset ingested while the request's body arrived (once per request), or undefined when file_data was not a string. */
export function takeIngestedUpload(request: FastifyRequest): IngestedUpload | undefined {
  const upload = ingested.get(request);
  ingested.delete(request);
  return upload;
}

export interface UploadParserOptions {
  /** Largest body accepted (413 beyond). */
  bodyLimit: number;
  /** Largest the body may be without file_data's string (413 beyond). */
  maxFieldBytes: number;
  limits: DatasetLimits;
}

/**
 * Fastify content-type parser for uploads (POST /v1/finetune). This thread only passes the arriving
 * chunks on (UploadPool); threads of the pool gather the body, parse the JSON, decode the base64 and
 * check the ZIP and its images. The request then proceeds with the small fields as its body (validated
 * by the route's zod schema like any other) and the images aside (takeIngestedUpload). An upload holds
 * one of the pool's slots from before its first byte is read until its images are back.
 */
export function uploadBodyParser(pool: UploadPool, o: UploadParserOptions) {
  return async (request: FastifyRequest, payload: Readable): Promise<unknown> => {
    const header = request.headers['content-length'];
    const declared = header === undefined ? null : Number(header);
    if (declared !== null && declared > o.bodyLimit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
    const upload = pool.begin(request.keyId, declared !== null && Number.isInteger(declared) && declared >= 0 ? declared : null);
    let outcome: Awaited<ReturnType<Upload['end']>>;
    try {
      await receive(payload, declared, o.bodyLimit, upload);
    } catch (err) {
      upload.abort();
      throw err;
    }
    outcome = await upload.end({ limits: o.limits, maxFieldBytes: o.maxFieldBytes });
    switch (outcome.kind) {
      case 'empty':
        return undefined;
      case 'json_invalid':
        throw Object.assign(new Error(outcome.message), { statusCode: 422, jsonInvalid: true });
      case 'fields_too_large':
        throw new HttpError(413, { detail: `Request body too large: ${outcome.message}` });
      case 'parsed':
        if (outcome.dataset) ingested.set(request, { images: outcome.dataset });
        else if (outcome.rejection !== undefined) ingested.set(request, { rejection: outcome.rejection });
        return outcome.body;
    }
  };
}

/** Passes the body on chunk by chunk as it arrives, with Fastify's checks on its length. */
function receive(payload: Readable, declared: number | null, limit: number, upload: Upload): Promise<void> {
  return new Promise((resolve, reject) => {
    let length = 0;
    const finish = (err: Error | null) => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      payload.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      length += bytes.length;
      if (length > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      if (declared !== null && length > declared) return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      const pause = upload.write(bytes);
      if (pause > 0) {
        payload.pause();
        setTimeout(() => payload.resume(), pause);
      }
    };
    const onEnd = () => finish(declared !== null && length !== declared ? new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH() : null);
    const onError = (err: Error & { statusCode?: number }) => {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      finish(err);
    };
    // A client that goes away mid-body: its slot is released at once, its bytes dropped.
    const onClose = () => finish(Object.assign(new Error('the request was aborted'), { statusCode: 400 }));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.on('close', onClose);
    payload.resume();
  });
}
