// The service with FLUXTUNE_BLOB_URL (s3rver on loopback): a generation's sample lands in the bucket
// under the prefix and is served by the API; with FLUXTUNE_S3_PRESIGN=1 the signed sample URL redirects
// to a presigned GET on the bucket instead (the bytes then come from the store), and a bad or expired
// signature is still refused by the API without a redirect.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestS3, type TestS3 } from '../support/s3-server.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

async function generate(server: TestServer): Promise<{ id: string; sample: string }> {
  const api = apiClient(server.url, KEY_A);
  const r = await api.post('/v1/flux-pro', { prompt: 'a red apple', width: 256, height: 256 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const ready = await waitUntil(async () => {
    const g = await api.get(`/v1/get_result?id=${r.body.id}`);
    return g.body.status === 'Ready' && g.body;
  });
  return { id: r.body.id, sample: ready.result.sample };
}

describe('the service on S3 blobs', () => {
  let s3: TestS3;
  const servers: TestServer[] = [];
  before(async () => {
    s3 = await startTestS3();
    // The SDK takes credentials from the process (its default chain), as a deployment's would.
    const env = s3.env();
    process.env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await s3.stop();
  });

  it('stores the sample in the bucket under the prefix and serves it from the API', async () => {
    const server = await startTestServer({ backend: new DeterministicTestBackend(), env: s3.env('svc') });
    servers.push(server);
    const { id, sample } = await generate(server);
    const bucket = s3.store('svc');
    const stored = await bucket.get(`tasks/${id}/sample.jpg`);
    bucket.close();
    assert.ok(stored && stored.length > 0, 'the sample is an object in the bucket');
    const res = await fetch(sample, { redirect: 'manual' });
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), stored);
  });

  it('FLUXTUNE_S3_PRESIGN=1: the sample URL redirects to a presigned GET that the bucket answers', async () => {
    const server = await startTestServer({ backend: new DeterministicTestBackend(), env: { ...s3.env('presigned'), FLUXTUNE_S3_PRESIGN: '1' } });
    servers.push(server);
    const { id, sample } = await generate(server);
    const res = await fetch(sample, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = res.headers.get('location')!;
    assert.ok(location.startsWith(`${s3.endpoint}/${s3.bucket}/presigned/tasks/${id}/sample.jpg?`), location);
    assert.match(location, /X-Amz-Signature=/);
    const fromBucket = await fetch(location);
    assert.equal(fromBucket.status, 200, await fromBucket.clone().text());
    const bucket = s3.store('presigned');
    assert.deepEqual(new Uint8Array(await fromBucket.arrayBuffer()), await bucket.get(`tasks/${id}/sample.jpg`));
    bucket.close();
    // (s3rver does not verify SigV4 signatures, so whether the store refuses a tampered one is not tested here.)

    // Our own signature is still checked first: no redirect for a bad one.
    const bad = await fetch(sample.replace(/sig=[^&]+/, 'sig=AAAA'), { redirect: 'manual' });
    assert.equal(bad.status, 403);
  });
});
