// FLUXTUNE_BLOB_URL and the AWS variables beside it, as configFromEnv reads them at start-up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromEnv } from '../../src/service/config.ts';
import { blobLocationFromEnv } from '../../src/service/storage/blob-location.ts';

describe('blob location from the environment', () => {
  it('unset or empty: the data directory', () => {
    assert.deepEqual(blobLocationFromEnv({}), { kind: 'local' });
    assert.deepEqual(blobLocationFromEnv({ FLUXTUNE_BLOB_URL: '' }), { kind: 'local' });
    assert.deepEqual(configFromEnv({}).blobs, { kind: 'local' });
  });

  it('s3://bucket/prefix on AWS: virtual-hosted style, region from the SDK unless set', () => {
    assert.deepEqual(blobLocationFromEnv({ FLUXTUNE_BLOB_URL: 's3://my-bucket/fluxtune/prod/' }), {
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'fluxtune/prod/',
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
      presignDownloads: false,
      publicEndpoint: undefined,
    });
    const l = blobLocationFromEnv({ FLUXTUNE_BLOB_URL: 's3://my-bucket', AWS_DEFAULT_REGION: 'eu-west-1' });
    assert.ok(l.kind === 's3' && l.prefix === '' && l.region === 'eu-west-1');
  });

  it('a custom endpoint (MinIO, R2…) turns path-style on and defaults the region; FLUXTUNE_S3_PATH_STYLE overrides', () => {
    const minio = blobLocationFromEnv({ FLUXTUNE_BLOB_URL: 's3://blobs', AWS_ENDPOINT_URL: 'http://minio:9000' });
    assert.ok(minio.kind === 's3');
    assert.equal(minio.endpoint, 'http://minio:9000');
    assert.equal(minio.forcePathStyle, true);
    assert.equal(minio.region, 'us-east-1');
    const s3Only = blobLocationFromEnv({
      FLUXTUNE_BLOB_URL: 's3://blobs',
      AWS_ENDPOINT_URL: 'http://other:1',
      AWS_ENDPOINT_URL_S3: 'https://acct.r2.cloudflarestorage.com',
      AWS_REGION: 'auto',
      FLUXTUNE_S3_PATH_STYLE: '0',
    });
    assert.ok(s3Only.kind === 's3');
    assert.equal(s3Only.endpoint, 'https://acct.r2.cloudflarestorage.com', 'the S3-specific endpoint wins');
    assert.equal(s3Only.region, 'auto');
    assert.equal(s3Only.forcePathStyle, false);
  });

  it('FLUXTUNE_S3_PRESIGN=1 and the endpoint clients see (FLUXTUNE_S3_PUBLIC_ENDPOINT)', () => {
    const l = blobLocationFromEnv({
      FLUXTUNE_BLOB_URL: 's3://blobs',
      AWS_ENDPOINT_URL_S3: 'http://minio:9000',
      FLUXTUNE_S3_PRESIGN: '1',
      FLUXTUNE_S3_PUBLIC_ENDPOINT: 'https://blobs.example.com',
    });
    assert.ok(l.kind === 's3' && l.presignDownloads && l.publicEndpoint === 'https://blobs.example.com');
    assert.throws(() => blobLocationFromEnv({ FLUXTUNE_BLOB_URL: 's3://blobs', FLUXTUNE_S3_PRESIGN: 'true' }), /FLUXTUNE_S3_PRESIGN must be 0 or 1/);
    assert.throws(
      () => blobLocationFromEnv({ FLUXTUNE_BLOB_URL: 's3://blobs', FLUXTUNE_S3_PUBLIC_ENDPOINT: 'https://x.example.com/path?q' }),
      /FLUXTUNE_S3_PUBLIC_ENDPOINT must be an http\(s\) origin/,
    );
  });

  it('refuses what cannot be a bucket URL, naming the variable', () => {
    for (const bad of ['http://bucket', 's3://', 's3://UPPER', 's3://ab', 's3://b_ucket/x', 's3://bucket/../x', 'bucket/prefix']) {
      assert.throws(() => blobLocationFromEnv({ FLUXTUNE_BLOB_URL: bad }), /FLUXTUNE_BLOB_URL must look like s3:\/\/bucket/, bad);
    }
    assert.throws(() => blobLocationFromEnv({ FLUXTUNE_BLOB_URL: 's3://bucket', FLUXTUNE_S3_PATH_STYLE: 'yes' }), /FLUXTUNE_S3_PATH_STYLE must be 0 or 1/);
  });
});
