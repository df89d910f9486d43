// decodeBase64InPlace decodes file_data where it lies (no string, no cleaned copy): the same answers as
// the string rules it replaced, which are kept here as the reference, for text and for JSON-escaped bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64InPlace } from '../../src/dataset/base64-zip.ts';
import { DatasetRejection } from '../../src/dataset/dataset-rejection.ts';
import { Rng } from '../../src/engine/rng.ts';

const MAX = 100 * 1024 * 1024;

/** The decoder as it was (src/dataset/base64-zip.ts before it worked on bytes), minus the ZIP checks. */
function reference(fileData: string, maxZipBytes: number): Buffer {
  const body = fileData
    .trim()
    .replace(/^data:[^,]*?,/, '')
    .replace(/\s+/g, '');
  if (body.length === 0) throw new DatasetRejection('file_data is empty');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(body)) throw new DatasetRejection('file_data is not valid base64');
  if (Math.floor((body.length * 3) / 4) > maxZipBytes + 3) {
    throw new DatasetRejection(`the ZIP is larger than the ${Math.round(maxZipBytes / 1024 / 1024)} MB limit`);
  }
  return Buffer.from(body, 'base64');
}

function outcome(f: () => Buffer): string {
  try {
    return `ok ${f().toString('hex')}`;
  } catch (err) {
    if (err instanceof DatasetRejection) return `rejected ${err.message}`;
    throw err;
  }
}

/** A JSON string literal's contents for `s`, with escapes a client might use where JSON allows them. */
function jsonContents(s: string, rnd: () => number): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const r = rnd();
    if (ch === '"' || ch === '\\' || c < 0x20) out += JSON.stringify(ch).slice(1, -1);
    else if (ch === '/' && r < 0.5) out += '\\/';
    else if (c < 0x10000 && r < 0.1) out += `\\u${c.toString(16).padStart(4, '0')[r < 0.05 ? 'toUpperCase' : 'toLowerCase']()}`;
    else out += ch;
  }
  return out;
}

/** Uniform [0, 1) numbers from the project's seeded generator. */
const rng = (seed: number) => {
  const r = new Rng(seed);
  return () => r.uniform();
};

const PIECES = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_'.split(''),
  '=',
  '==',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '\v',
  '\f',
  '\u00a0',
  '\u2028',
  '\u3000',
  '\ufeff',
  'data:',
  'data:application/zip;base64,',
  ',',
  ';',
  ':',
  '!',
  '"',
  '\\',
  '\u0000',
  '\u0008',
  'é',
  '😀',
  '\ud800',
];

function randomInput(rnd: () => number): string {
  const n = Math.floor(rnd() * 40);
  let s = '';
  // Mostly plausible base64 with a little of everything else.
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.7) s += PIECES[Math.floor(rnd() * 64)];
    else s += PIECES[Math.floor(rnd() * PIECES.length)];
  }
  return s;
}

describe('decodeBase64InPlace: the same answers as the string rules it replaced', () => {
  const cases = [
    '',
    '   ',
    'QUJD',
    'QUJ',
    'QU',
    'Q',
    'QUJD=',
    'QUI=',
    'QQ==',
    'QQ===',
    'QQ=A',
    ' \n QUJD\r\nREVG \u00a0',
    'data:application/zip;base64,UEsDBA==',
    '  data:;base64,QUJD',
    'data:QUJD',
    'data:',
    'datax,QUJD',
    'a,b',
    '!!!not-base64!!!',
    'QU JD\u2028RE\u3000VG',
    '\ufeffQUJD',
    'QUJD\u200bREVG',
  ];

  it('fixed cases, as text and as JSON string contents', () => {
    const rnd = rng(7);
    for (const s of cases) {
      const want = outcome(() => reference(s, MAX));
      assert.equal(
        outcome(() => decodeBase64InPlace(Buffer.from(s, 'utf8'), MAX, 'text')),
        want,
        `text ${JSON.stringify(s)}`,
      );
      const json = jsonContents(s, rnd);
      assert.equal(
        outcome(() => decodeBase64InPlace(Buffer.from(json, 'utf8'), MAX, 'json')),
        want,
        `json ${JSON.stringify(json)}`,
      );
    }
  });

  it('5,000 random inputs, as text and as JSON string contents', () => {
    const rnd = rng(12345);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const s = randomInput(rnd);
      const want = outcome(() => reference(s, MAX));
      const kind = want.startsWith('ok') ? (want === 'ok ' ? 'ok, empty' : 'ok') : want;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      assert.equal(
        outcome(() => decodeBase64InPlace(Buffer.from(s, 'utf8'), MAX, 'text')),
        want,
        `text ${JSON.stringify(s)}`,
      );
      const json = jsonContents(s, rnd);
      assert.equal(
        outcome(() => decodeBase64InPlace(Buffer.from(json, 'utf8'), MAX, 'json')),
        want,
        `json ${JSON.stringify(json)}`,
      );
    }
    // The inputs exercise every answer, not just one.
    for (const k of ['ok', 'rejected file_data is empty', 'rejected file_data is not valid base64'])
      assert.ok((kinds.get(k) ?? 0) > 100, `${k}: ${kinds.get(k)}`);
  });

  it('the size cap, as before (counted on the cleaned text)', () => {
    const limit = 1024 * 1024;
    for (const chars of [1398104, 1398105, 1398108, 1398112]) {
      const s = 'A'.repeat(chars);
      assert.equal(
        outcome(() => decodeBase64InPlace(Buffer.from(s), limit, 'text')).slice(0, 40),
        outcome(() => reference(s, limit)).slice(0, 40),
        `${chars} characters`,
      );
    }
  });

  it('megabytes across its 4 MB slices, with escapes and line breaks on the slice boundaries', () => {
    const rnd = rng(99);
    const bytes = Buffer.alloc(7_000_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
    const clean = bytes.toString('base64');
    // Line-wrapped as MIME does, and a JSON-escaped "\/" and "\n" at and around each 4 MiB boundary.
    const wrapped = clean.replace(/.{76}/g, '$&\n');
    assert.deepEqual(decodeBase64InPlace(Buffer.from(wrapped), MAX, 'text'), bytes);
    let json = JSON.stringify(wrapped).slice(1, -1);
    for (const at of [4 << 20, (4 << 20) - 1, (4 << 20) + 1, 8 << 20, (8 << 20) - 3]) {
      if (at < json.length) json = `${json.slice(0, at)}\\n${json.slice(at)}`;
    }
    json = json.replace(/\//g, '\\/');
    assert.deepEqual(decodeBase64InPlace(Buffer.from(json), MAX, 'json'), bytes);
    // Padding in the last slice, unpadded tails.
    for (const n of [1, 2, 3, 4]) {
      const tail = bytes.subarray(0, bytes.length - n);
      assert.deepEqual(decodeBase64InPlace(Buffer.from(tail.toString('base64')), MAX, 'text'), tail);
      assert.deepEqual(decodeBase64InPlace(Buffer.from(tail.toString('base64').replace(/=+$/, '')), MAX, 'text'), tail);
    }
  });

  it('decodes into the memory it was given', () => {
    const raw = Buffer.from('data:application/zip;base64,QUJDREVG');
    const out = decodeBase64InPlace(raw, MAX, 'text');
    assert.equal(out.toString(), 'ABCDEF');
    assert.equal(out.buffer, raw.buffer);
  });
});
