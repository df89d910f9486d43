import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { chatCompletionsUrl, openAiCaptioner } from '../../src/dataset/openai-captioner.ts';

describe('OpenAI-compatible vision captioner (CAPTION_API_URL)', () => {
  it('sends each image as a data URL with a mode-specific instruction and returns the trimmed text', async () => {
    const bodies: any[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        bodies.push({ url: req.url, auth: req.headers.authorization, json: JSON.parse(b) });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { content: ' "a red square on white." ' } }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const captioner = openAiCaptioner({ url, model: 'llava', apiKey: 'k' });
      const img = { width: 2, height: 2, data: new Uint8Array(12).fill(200) };
      assert.deepEqual(
        (await captioner.caption([img, img], 'product')).map((c) => [c.text, c.confidence]),
        [
          ['a red square on white.', null],
          ['a red square on white.', null],
        ],
      );
      assert.equal(bodies.length, 2);
      assert.equal(bodies[0].url, '/v1/chat/completions');
      assert.equal(bodies[0].auth, 'Bearer k');
      assert.equal(bodies[0].json.model, 'llava');
      const content = bodies[0].json.messages[0].content;
      assert.match(content[0].text, /product/);
      assert.match(content[1].image_url.url, /^data:image\/png;base64,/);
    } finally {
      server.close();
    }
  });

  it('accepts a base URL or the full endpoint', () => {
    assert.equal(chatCompletionsUrl('http://h:1/v1/'), 'http://h:1/v1/chat/completions');
    assert.equal(chatCompletionsUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1/chat/completions');
  });
});
