// Where a deployment keeps its blobs: the data directory (the embedded default), or an S3-compatible
// bucket named by FLUXTUNE_BLOB_URL=s3://bucket/prefix, which every node of a scale-out shares.

export interface S3BlobLocation {
  kind: 's3';
  bucket: string;
  /** '' or a key prefix ending in '/', e.g. 'fluxtune/'. */
  prefix: string;
  /** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: MinIO, R2, GCS, Ceph…; unset = AWS itself. */
  endpoint?: string;
  /** AWS_REGION / AWS_DEFAULT_REGION; unset: the SDK's own resolution (profile), or us-east-1 beside a custom endpoint. */
  region?: string;
  /** Bucket in the path, not the host name: what MinIO and most self-hosted stores need (FLUXTUNE_S3_PATH_STYLE). */
  forcePathStyle: boolean;
  /**
   * FLUXTUNE_S3_PRESIGN=1: sample and preview URLs redirect to a presigned GET on the bucket, so the
   * bytes flow from the store, not through the API node. Off by default: clients must reach the bucket.
   */
  presignDownloads: boolean;
  /** FLUXTUNE_S3_PUBLIC_ENDPOINT: the endpoint as clients reach it, when it differs from the nodes' (e.g. http://minio:9000 inside). */
  publicEndpoint?: string;
}

export type BlobLocation = { kind: 'local' } | S3BlobLocation;

type Env = Record<string, string | undefined>;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Credentials are never read here: the SDK's default chain (AWS_ACCESS_KEY_ID…, profiles, instance roles) finds them. */
export function blobLocationFromEnv(env: Env): BlobLocation {
  const raw = env.FLUXTUNE_BLOB_URL;
  if (raw === undefined || raw === '') return { kind: 'local' };
  const fail = (why: string) => new Error(`FLUXTUNE_BLOB_URL must look like s3://bucket or s3://bucket/prefix (${why}), got ${JSON.stringify(raw)}`);
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(raw);
  if (!m) throw fail('scheme s3:// and a bucket');
  const bucket = m[1]!;
  if (!BUCKET.test(bucket)) throw fail('a bucket name is 3–63 lower-case letters, digits, dots and hyphens');
  const segments = (m[2] ?? '').split('/').filter(Boolean);
  if (segments.some((s) => s === '.' || s === '..')) throw fail('no . or .. in the prefix');
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const pathStyle = nonEmpty(env.FLUXTUNE_S3_PATH_STYLE);
  if (pathStyle !== undefined && pathStyle !== '0' && pathStyle !== '1')
    throw new Error(`FLUXTUNE_S3_PATH_STYLE must be 0 or 1, got ${JSON.stringify(pathStyle)}`);
  const presign = nonEmpty(env.FLUXTUNE_S3_PRESIGN);
  if (presign !== undefined && presign !== '0' && presign !== '1') throw new Error(`FLUXTUNE_S3_PRESIGN must be 0 or 1, got ${JSON.stringify(presign)}`);
  const publicEndpoint = nonEmpty(env.FLUXTUNE_S3_PUBLIC_ENDPOINT);
  if (publicEndpoint !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(publicEndpoint)) {
    throw new Error(`FLUXTUNE_S3_PUBLIC_ENDPOINT must be an http(s) origin such as https://blobs.example.com, got ${JSON.stringify(publicEndpoint)}`);
  }
  return {
    kind: 's3',
    bucket,
    prefix: segments.length ? `${segments.join('/')}/` : '',
    endpoint,
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? (endpoint ? 'us-east-1' : undefined),
    forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === '1',
    presignDownloads: presign === '1',
    publicEndpoint,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
