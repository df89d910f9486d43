// The dashboard's checks before upload and the ZIP it sends, and how it words the API's errors: the
// browser-free parts of web/src, run under Node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { checkAll, type DatasetImage, datasetZip } from '../../web/src/dataset-checks.ts';
import { errorSentences } from '../../web/src/error-sentences.ts';

const image = (name: string, o: Partial<DatasetImage> = {}): DatasetImage => ({
  key: name,
  name,
  bytes: new Uint8Array([1, 2, 3]),
  url: '',
  width: 512,
  height: 512,
  format: 'png',
  sha256: name,
  caption: '',
  captionSource: 'auto',
  checks: [],
  ...o,
});
const texts = (img: DatasetImage) => img.checks.map((c) => `${c.level}: ${c.text}`);

describe('dashboard: checks before upload', () => {
  it('says per file what the server would refuse or change', () => {
    const [gif, broken, big, small, ok] = checkAll([
      image('anim.gif', { format: undefined }),
      image('broken.png', { width: undefined, height: undefined }),
      image('big.jpg', { width: 4000, height: 3000 }),
      image('tiny.png', { width: 100, height: 80 }),
      image('fine.png'),
    ]);
    assert.deepEqual(texts(gif!), ['error: Not a JPG, PNG or WebP image (judged by its content, not its name).']);
    assert.deepEqual(texts(broken!), ['error: Corrupt or unreadable: the browser cannot decode it.']);
    assert.deepEqual(texts(big!), ['info: 4000×3000 is above 1 MP: it trains at 1182×886.']);
    assert.deepEqual(texts(small!), ['warning: Small (100×80): under 256 px on a side, little detail to learn.']);
    assert.deepEqual(texts(ok!), []);
  });

  it('names the first of two identical images, and each image past the twentieth', () => {
    const list = checkAll([image('a.png', { sha256: 'same' }), image('b.png', { sha256: 'same' })]);
    assert.deepEqual(texts(list[1]!), ['warning: The same image as a.png: it would count twice.']);
    const many = checkAll(Array.from({ length: 22 }, (_, i) => image(`img${i}.png`)));
    assert.deepEqual(
      many.map((m) => m.checks.length),
      [...Array(20).fill(0), 1, 1],
    );
    assert.match(texts(many[21]!)[0]!, /^error: Image 22 of 22: a finetune takes at most 20/);
  });
});

describe('dashboard: the ZIP it uploads', () => {
  it('holds each image and, where it has one, its caption as <name>.txt; same names get a suffix', () => {
    const zip = unzipSync(
      datasetZip([
        image('cat.png', { caption: ' TOK on a rug ', captionSource: 'edited' }),
        image('dog.jpg'),
        image('cat.png', { caption: 'TOK again', captionSource: 'file' }),
      ]),
    );
    assert.deepEqual(Object.keys(zip).sort(), ['cat-2.png', 'cat-2.txt', 'cat.png', 'cat.txt', 'dog.jpg']);
    assert.equal(new TextDecoder().decode(zip['cat.txt']), 'TOK on a rug');
    assert.equal(new TextDecoder().decode(zip['cat-2.txt']), 'TOK again');
    assert.deepEqual([...zip['dog.jpg']!], [1, 2, 3]);
  });
});

describe('dashboard: errors as sentences', () => {
  it('names the field, never echoes the input, and ends each sentence', () => {
    const detail = [
      { loc: ['body', 'iterations'], msg: 'Input should be greater than or equal to 100', input: 50, type: 'greater_than_equal' },
      { loc: ['body', 'file_data'], msg: 'penguin.gif: not a JPG, PNG or WebP image (its content is gif)', input: 'UEsDB…' },
    ];
    assert.deepEqual(errorSentences(422, { detail }), [
      'Iterations: Input should be greater than or equal to 100.',
      'Images: penguin.gif: not a JPG, PNG or WebP image (its content is gif).',
    ]);
    assert.deepEqual(errorSentences(403, { detail: 'Not authenticated - Invalid Authentication' }), [
      'Not authenticated - Invalid Authentication: check the API key.',
    ]);
    assert.deepEqual(errorSentences(502, null), ['The server answered 502 without an explanation.']);
  });
});
