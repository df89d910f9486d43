import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3BlobLocation } from './blob-location.ts';
import { assertSafeBlobKey, type BlobStore } from './blob-store.ts';

/** Multipart part size: at most QUEUE_SIZE parts are in memory per upload (32 MiB), and 10,000 parts cover 80 GB. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1000;

/**
 * Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, R2, GCS, Ceph; s3rver in the tests), under
 * an optional key prefix. An S3 PUT, single or multipart, becomes visible only when it completes, so a
 * crash mid-write leaves no reachable partial object; the parts of an interrupted multipart upload are
 * aborted by removeIncompleteWrites where the store lists them (and by a bucket lifecycle rule anyway).
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  /** Signs download URLs for the endpoint clients reach (no request is made with it). */
  private readonly presigner?: S3Client;
  readonly presignedDownloadUrl?: (key: string, ttlSeconds: number) => Promise<string>;

  constructor(
    private readonly location: S3BlobLocation,
    extra: Partial<S3ClientConfig> = {},
    /** Keys per listing page (S3's maximum, 1,000, by default; smaller in tests of paging). */
    private readonly listPageSize = 1000,
  ) {
    // The SDK warns on Node < 22 that *its future releases* will need Node 22; this install works on
    // Node 20 (package.json engines), so the notice would only clutter every server log. Set the
    // variable to 'false' to see it.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint: location.endpoint,
      region: location.region,
      forcePathStyle: location.forcePathStyle,
      // Default CRC checksums on every request/response are an AWS novelty that many S3-compatible stores reject.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...extra,
    });
    if (location.presignDownloads) {
      this.presigner = location.publicEndpoint
        ? new S3Client({
            endpoint: location.publicEndpoint,
            region: location.region,
            forcePathStyle: location.forcePathStyle,
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
            ...extra,
          })
        : this.client;
      const presigner = this.presigner;
      this.presignedDownloadUrl = (key, ttlSeconds) =>
        getSignedUrl(presigner, new GetObjectCommand({ Bucket: location.bucket, Key: this.objectKey(key) }), {
          expiresIn: Math.max(1, Math.round(ttlSeconds)),
        });
    }
  }

  /** e.g. s3://bucket/prefix/ — for logs. */
  get url(): string {
    return `s3://${this.location.bucket}/${this.location.prefix}`;
  }

  private objectKey(key: string): string {
    assertSafeBlobKey(key);
    return this.location.prefix + key;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const Key = this.objectKey(key);
    if (bytes.byteLength <= PART_SIZE) {
      await this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key, Body: bytes, ContentLength: bytes.byteLength }));
      return;
    }
    await this.upload(Key, bytes);
  }

  async putStream(key: string, body: Readable | AsyncIterable<Uint8Array>): Promise<void> {
    await this.upload(this.objectKey(key), body instanceof Readable ? body : Readable.from(body));
  }

  /** lib-storage: one PUT when the body fits a part, else a multipart upload it aborts itself on failure. */
  private async upload(Key: string, Body: Uint8Array | Readable): Promise<void> {
    await new Upload({
      client: this.client,
      params: { Bucket: this.location.bucket, Key, Body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    }).done();
  }

  async get(key: string): Promise<Uint8Array | null> {
    const r = await this.getObject(key);
    if (!r?.Body) return null;
    const body = r.Body as Readable;
    const length = r.ContentLength;
    if (length === undefined) return await r.Body.transformToByteArray();
    // Filled in place as chunks arrive: the object is in memory once, not once as chunks and again concatenated.
    const out = new Uint8Array(length);
    let offset = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (offset + chunk.byteLength > length) throw new Error(`blob ${key}: more bytes than its Content-Length ${length}`);
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    if (offset !== length) throw new Error(`blob ${key}: ${offset} of ${length} bytes arrived`);
    return out;
  }

  async getStream(key: string): Promise<Readable | null> {
    const r = await this.getObject(key);
    return r?.Body ? (r.Body as Readable) : null;
  }

  private async getObject(key: string): Promise<GetObjectCommandOutput | null> {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const base = `${this.objectKey(prefix)}/`;
    // Listed page by page, each page deleted before the next is asked for: memory stays one page.
    for await (const page of this.listPages(base)) {
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const r = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.location.bucket,
            Delete: { Objects: keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length > 0)
          throw new Error(`deleting ${base}: ${failed.length} object(s) failed, first ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`);
      }
    }
  }

  async listChildren(prefix: string): Promise<{ name: string; modifiedMs: number }[]> {
    const base = `${this.objectKey(prefix)}/`;
    // No delimiter: a child's "last changed" is its newest object, which common prefixes do not carry.
    const newest = new Map<string, number>();
    for await (const page of this.listPages(base)) {
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        const name = o.Key.slice(base.length).split('/')[0]!;
        const ms = o.LastModified?.getTime() ?? 0;
        newest.set(name, Math.max(newest.get(name) ?? 0, ms));
      }
    }
    return [...newest].map(([name, modifiedMs]) => ({ name, modifiedMs }));
  }

  /** Aborts multipart uploads under the prefix begun more than olderThanMs ago (a writer that died mid-upload). */
  async removeIncompleteWrites(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.location.bucket, Prefix: this.location.prefix || undefined, KeyMarker, UploadIdMarker }),
        );
      } catch (err) {
        // Some S3-compatible servers (s3rver among them) do not list uploads; their parts are unreachable anyway.
        if (isNotImplemented(err)) return removed;
        throw err;
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) > cutoff) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.location.bucket, Key: u.Key, UploadId: u.UploadId }));
        removed++;
      }
      if (!page.IsTruncated) return removed;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /**
   * ListObjectsV2 paged by StartAfter (the last key seen) rather than continuation tokens: standard V2,
   * and it works on stores whose tokens do not (s3rver's need DES, which OpenSSL 3 no longer has).
   */
  private async *listPages(Prefix: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let StartAfter: string | undefined;
    for (;;) {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix, StartAfter, MaxKeys: this.listPageSize }));
      yield page;
      const last = page.Contents?.at(-1)?.Key;
      if (!page.IsTruncated || !last) return;
      StartAfter = last;
    }
  }

  close(): void {
    this.client.destroy();
    if (this.presigner && this.presigner !== this.client) this.presigner.destroy();
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

function isNotImplemented(err: unknown): boolean {
  return (err as { name?: string }).name === 'NotImplemented' || statusOf(err) === 501;
}
