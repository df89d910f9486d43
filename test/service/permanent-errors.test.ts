// A failure that can never succeed (the model says InvalidModelInput: a corrupt LoRA file) ends the
// task at once; a transient one is retried. Before, both were retried 3 times (~15 s) before Error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GenerateRequest, GenerateResult } from '../../src/model/backend.ts';
import { DeterministicTestBackend } from './support/deterministic-test-backend.ts';
import { apiClient, KEY_A, startTestServer, type TestServer, waitUntil } from './support/harness.ts';

class FailingGenerations extends DeterministicTestBackend {
  calls = 0;
  constructor(private readonly failure: () => Error) {
    super({ steps: 2 });
  }
  override async generate(_request: GenerateRequest): Promise<GenerateResult> {
    this.calls++;
    throw this.failure();
  }
}

// As a worker thread delivers it: a plain Error carrying the name (ThreadedBackend re-creates errors so).
const invalidInput = () => Object.assign(new Error("the finetune's LoRA file cannot be read: bad header"), { name: 'InvalidModelInput' });

describe('permanent and transient job failures', () => {
  for (const [title, failure, expectCalls] of [
    ['InvalidModelInput fails at once', invalidInput, 1],
    ['any other error is retried up to the attempt limit', () => new Error('device busy'), 3],
  ] as const) {
    describe(title, () => {
      let server: TestServer;
      const backend = new FailingGenerations(failure);
      before(async () => {
        server = await startTestServer({ backend, config: { jobMaxAttempts: 3, jobRetryBackoffMs: 20 } });
      });
      after(() => server.stop());

      it(`the generation ends in Error after ${expectCalls} attempt(s), with the reason`, async () => {
        const api = apiClient(server.url, KEY_A);
        const { id } = (await api.post('/v1/flux-pro', { prompt: 'x', width: 256, height: 256 })).body;
        const r = await waitUntil(async () => {
          const res = (await api.get(`/v1/get_result?id=${id}`)).body;
          return res.status === 'Error' ? res : null;
        });
        assert.equal(backend.calls, expectCalls);
        assert.match(r.details.error, expectCalls === 1 ? /LoRA file cannot be read/ : /device busy/);
      });
    });
  }
});
