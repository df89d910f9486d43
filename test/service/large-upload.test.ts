// POST /v1/finetune with a body of ~130 MB: the HTTP thread must keep answering (the body is parsed,
// decoded and checked by upload threads), memory must stay near the body's size, and uploads in flight
// are bounded per key and in all.
import assert from 'node:assert/strict';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../../src/service/auth/api-keys.ts';
import { buildZip, solidJpeg, solidPng } from '../dataset/zip-fixtures.ts';
import { apiClient, KEY_A, startTestServer, type TestServer } from './support/harness.ts';

interface Answer {
  status: number;
  body: any;
}

/** POST with the body written in 1 MB slices as the socket takes them (what a client's socket does; cheap for this thread). */
function post(url: string, key: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'x-key': key, 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const end = Math.min(body.length, at + (1 << 20));
        const more = req.write(body.subarray(at, end));
        at = end;
        if (!more) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** An upload that sends its headers and a first slice, then waits: it holds a slot until destroyed. */
function hangingUpload(url: string, key: string, length = 50_000_000): { answer: Promise<Answer>; destroy(): void } {
  const req = http.request(url, { method: 'POST', headers: { 'x-key': key, 'content-type': 'application/json', 'content-length': length } });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  req.write('{"file_data":"');
  req.write('QUJD'.repeat(1000));
  return {
    answer,
    destroy: () => {
      answer.catch(() => {});
      req.destroy();
    },
  };
}

/** A valid dataset ZIP of `mb` MB: three images and a stored filler file that ingestion reads past. */
async function largeZip(mb: number): Promise<Buffer> {
  return buildZip([
    { name: 'a.png', data: await solidPng(64, 48, [200, 30, 30]) },
    { name: 'a.txt', data: 'TOK on red' },
    { name: 'b.jpg', data: await solidJpeg(40, 40) },
    { name: 'c.png', data: await solidPng(32, 32, [10, 200, 30]) },
    { name: 'filler.bin', data: Buffer.alloc(mb * 1024 * 1024, 0x5a), compress: false },
  ]);
}

const jsonBody = (fields: Record<string, unknown>, zip: Buffer) =>
  Buffer.concat([Buffer.from('{"file_data":"'), Buffer.from(zip.toString('base64'), 'latin1'), Buffer.from(`",${JSON.stringify(fields).slice(1)}`)]);

const waitFor = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('large uploads', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    server = await startTestServer();
    api = apiClient(server.url, KEY_A);
  });
  after(() => server.stop());

  it('a 130 MB body does not stall the event loop, and costs about its size in memory', async () => {
    const body = jsonBody({ finetune_comment: 'big', mode: 'general' }, await largeZip(93));
    assert.ok(body.length > 128e6 && body.length < 134e6, `${body.length}`);
    // The threads start on the first upload: a small one first, so the measurement is of an upload, not of starting them.
    const warm = jsonBody({ finetune_comment: 'warm', mode: 'general' }, await buildZip([{ name: 'w.png', data: await solidPng(8, 8) }]));
    assert.equal((await post(`${server.url}/v1/finetune`, KEY_A, warm)).status, 200);

    global.gc?.();
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 20);
    // What this (the HTTP) thread parses as JSON meanwhile: the body must not be among it (Fastify's own
    // parser took 0.7–2 s of it here). Deterministic, unlike the event-loop delay below.
    const parse = JSON.parse;
    let largestParsed = 0;
    JSON.parse = function (this: unknown, text: string, ...rest: unknown[]) {
      largestParsed = Math.max(largestParsed, String(text).length);
      return (parse as (...a: unknown[]) => unknown).call(this, text, ...rest);
    } as typeof JSON.parse;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const t0 = performance.now();
    let r: Answer;
    try {
      r = await post(`${server.url}/v1/finetune`, KEY_A, body);
    } finally {
      JSON.parse = parse;
    }
    const seconds = (performance.now() - t0) / 1000;
    delay.disable();
    clearInterval(sampler);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(largestParsed > 0 && largestParsed < 1e6, `the HTTP thread parsed ${largestParsed} characters of JSON`);

    const maxMs = delay.max / 1e6;
    const extraMb = (rssPeak - rssBefore) / 1e6;
    console.log(
      `# 130 MB upload: ${seconds.toFixed(1)} s; event-loop delay max ${maxMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; RSS +${extraMb.toFixed(0)} MB`,
    );
    // Parsing it here took 0.7–2 s of this thread, and 0.4–0.7 GB beyond the body. A bound that only
    // catches that runaway (< 25 ms measured); the parse check above is the exact one.
    assert.ok(maxMs < 100, `the event loop stalled for ${maxMs.toFixed(0)} ms`);
    // The stall is the regression this guards (1.7–2.2 s before); RSS here also counts this process's own
    // client sending the body and whatever the suite's other files load alongside (one full run: +319 MB),
    // so its bound only catches a runaway (several copies of the body), not the last hundred MB.
    assert.ok(extraMb < 4 * (body.length / 1e6), `RSS grew by ${extraMb.toFixed(0)} MB for a ${(body.length / 1e6).toFixed(0)} MB body`);

    // The finetune is there, with its three images (the filler is not one).
    const details = await api.get(`/v1/finetune_details?finetune_id=${r.body.finetune_id}`);
    assert.equal(details.body.finetune_details.image_count, 3);
  });

  it('uploads in flight are bounded: 2 per key (429), 4 in all (503); a client that goes away frees its slot', async () => {
    const b = (await createApiKey(server.db, 'b')).key;
    const c = (await createApiKey(server.db, 'c')).key;
    const url = `${server.url}/v1/finetune`;
    const pool = () => server.app.uploadPool.inFlight;
    const hanging = [hangingUpload(url, KEY_A), hangingUpload(url, KEY_A), hangingUpload(url, b)];
    try {
      await waitFor(() => pool() === 3);
      assert.equal(pool(), 3);
      // A third from the same key is refused before its body is read.
      const third = hangingUpload(url, KEY_A);
      const refused = await third.answer;
      third.destroy();
      assert.equal(refused.status, 429);
      assert.match(refused.body.detail, /at most 2 finetune uploads at a time/);

      hanging.push(hangingUpload(url, b));
      await waitFor(() => pool() === 4);
      const fifth = hangingUpload(url, c);
      const busy = await fifth.answer;
      fifth.destroy();
      assert.equal(busy.status, 503);
      assert.match(busy.body.detail, /as many uploads as it accepts at once \(4\)/);
    } finally {
      for (const h of hanging) h.destroy();
    }
    // Their slots are released as their connections close.
    await waitFor(() => pool() === 0);
    assert.equal(pool(), 0);
    const small = jsonBody({ finetune_comment: 'after', mode: 'general' }, await buildZip([{ name: 'a.png', data: await solidPng(8, 8) }]));
    assert.equal((await post(url, KEY_A, small)).status, 200);
  });

  it('the upload route answers malformed bodies as the JSON routes do', async () => {
    const url = `${server.url}/v1/finetune`;
    let r = await post(url, KEY_A, Buffer.from('{not json'));
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'json_invalid');
    assert.match(r.body.detail[0].ctx.error, /JSON/);
    r = await post(url, KEY_A, Buffer.from('  '));
    assert.deepEqual(r.body.detail[0], { type: 'missing', loc: ['body'], msg: 'Field required', input: null });
    r = await post(url, KEY_A, Buffer.from(`{"file_data":"QUJD","finetune_comment":${'['.repeat(10_000)}${']'.repeat(10_000)}}`));
    assert.equal(r.status, 422);
    assert.equal(r.body.detail[0].type, 'json_invalid');
    r = await post(url, KEY_A, Buffer.from(JSON.stringify({ file_data: 'QUJD', mode: 'general', finetune_comment: 'x'.repeat(2 * 1024 * 1024) })));
    assert.equal(r.status, 413);
    assert.match(r.body.detail, /other than file_data/);
    // A body of unknown length (chunked) is gathered in blocks and joined by the ingest thread.
    const small = jsonBody({ finetune_comment: 'chunked', mode: 'general' }, await buildZip([{ name: 'a.png', data: await solidPng(8, 8) }]));
    const chunked = await fetch(url, {
      method: 'POST',
      headers: { 'x-key': KEY_A, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          for (let at = 0; at < small.length; at += 100) c.enqueue(small.subarray(at, at + 100));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 200, await chunked.clone().text());
    // A declared length over the limit is refused before a byte is read.
    const tooLong = hangingUpload(url, KEY_A, 500 * 1024 * 1024);
    const refused = await tooLong.answer;
    tooLong.destroy();
    assert.equal(refused.status, 413);
    // A string of the wrong kind still gets zod's answer, and the echo of file_data is cut.
    r = await post(url, KEY_A, Buffer.from(JSON.stringify({ file_data: 'Q'.repeat(5000), mode: 'general', finetune_comment: 7 })));
    assert.equal(r.status, 422);
    assert.deepEqual(
      r.body.detail.map((d: any) => [d.type, d.loc.join('.')]),
      [['string_type', 'body.finetune_comment']],
    );
  });
});
