// splitJsonBody reads an upload's JSON without making a string of file_data: it must accept and refuse
// exactly what JSON.parse does (with JSON.parse's message), and give the same values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { BodyFieldsTooLarge, ECHO_CHARS, JsonSyntaxError, splitJsonBody } from '../../src/service/http/json-body.ts';

const MAX = 1024 * 1024;

/** Uniform [0, 1) numbers from the project's seeded generator. */
const rng = (seed: number) => {
  const r = new Rng(seed);
  return () => r.uniform();
};

const echo = (s: string) => (s.length > ECHO_CHARS ? `${s.slice(0, ECHO_CHARS)}…` : s);

/** What the split must equal: JSON.parse's answer (on the text as the bytes sent decode), with file_data (when a string of an object) echoed and aside. */
function expected(sent: string): unknown {
  const text = Buffer.from(sent, 'utf8').toString('utf8');
  if (text.trim() === '') return { kind: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'syntax', message: (err as Error).message };
  }
  let big: string | null = null;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as Record<string, unknown>).file_data === 'string') {
    big = (value as Record<string, string>).file_data;
    (value as Record<string, unknown>).file_data = echo(big);
  }
  return { kind: 'parsed', value, big };
}

function actual(text: string): unknown {
  try {
    const r = splitJsonBody(Buffer.from(text, 'utf8'), 'file_data', MAX);
    if (r.kind === 'empty') return r;
    const big = r.big ? (r.big.source === 'json' ? (JSON.parse(`"${r.big.bytes.toString('utf8')}"`) as string) : r.big.bytes.toString('utf8')) : null;
    return { kind: 'parsed', value: r.value, big };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { kind: 'syntax', message: err.message };
    throw err;
  }
}

const STRINGS = [
  '',
  'QUJD',
  'a "quoted" word',
  'back\\slash',
  'line\nbreak',
  'tab\t',
  'é😀',
  '\u0000',
  '\ud800',
  '/'.repeat(5),
  'x'.repeat(200),
  'Q'.repeat(81),
];

function randomValue(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 2 || r < 0.5) {
    const k = Math.floor(rnd() * 6);
    return [null, true, false, Math.floor(rnd() * 1000) - 500, rnd() * 1e-7, STRINGS[Math.floor(rnd() * STRINGS.length)]][k];
  }
  if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`k${i}`, randomValue(rnd, depth + 1)]));
}

/** JSON.stringify, then spelled the ways other encoders spell it: spaces, \/ and \u escapes. */
function respell(json: string, rnd: () => number): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i]!;
    if (ch === '"' && json[i - 1] !== '\\') inString = !inString;
    if (inString && ch === '/' && rnd() < 0.5) out += '\\/';
    else if (inString && /[A-Za-z]/.test(ch) && json[i - 1] !== '\\' && rnd() < 0.05) out += `\\u00${ch.charCodeAt(0).toString(16)}`;
    else if (!inString && (ch === ',' || ch === ':' || ch === '{' || ch === '[') && rnd() < 0.3)
      out += `${ch}${[' ', '\n', '\t', '\r\n'][Math.floor(rnd() * 4)]}`;
    else out += ch;
  }
  return out;
}

function mutate(text: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (text.length + 1));
  const r = rnd();
  if (r < 0.4) return text.slice(0, at) + text.slice(at + 1);
  const junk = ['"', '\\', ',', '}', ']', '{', ':', '\u0001', '\n', 'x', '\\u12', '\\q', ' '][Math.floor(rnd() * 13)];
  return text.slice(0, at) + junk + text.slice(at);
}

describe('splitJsonBody: the same as JSON.parse, without a string of file_data', () => {
  it('hand-picked bodies', () => {
    const bodies = [
      '',
      '   \n\t',
      '\u00a0',
      '\ufeff{"file_data":"QUJD"}',
      '{}',
      ' { } ',
      '{"file_data":"QUJD","mode":"general"}',
      '{"mode":"general","file_data":"data:application\\/zip;base64,QU\\nJD"}',
      '{"file_data":1}',
      '{"file_data":null,"x":[1,2,{"y":"z"}]}',
      '{"file_data":"a","file_data":"b"}',
      '{"file_data":"a","file_data":2}',
      '{"file_data":2,"file_data":"b"}',
      '{"__proto__":{"polluted":true},"file_data":"QQ=="}',
      '{"file_data":"\\u0041\\u00e9\\ud83d\\ude00"}',
      '{"file_data":"raw\u0001control"}',
      '{"file_data":"bad \\x escape"}',
      '{"file_data":"short \\u12 escape"}',
      '{"file_data":"unterminated}',
      '{"file_data":"QUJD",}',
      '{"file_data":"QUJD" "mode":1}',
      '{"file_data" "QUJD"}',
      '{file_data:"QUJD"}',
      '{"a":tru}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":01}',
      '{"a":1.5e3,"b":-0,"c":true,"d":false,"e":null}',
      '{"a":[1,2,]}',
      '{"a":{"b":[{"c":"}"}]}}',
      '{"a":"\\\\"}',
      '{"a":"\\\\\\"still a string\\\\"}',
      '{"file_data":"QUJD"} trailing',
      '{"file_data":"QUJD"}}',
      '[1,2,3]',
      '"just a string"',
      '42',
      'null',
      `{"file_data":"${'Q'.repeat(1000)}","finetune_comment":"c"}`,
      `{"file_data":"${'\\/'.repeat(500)}"}`,
      `{"file_data":"${'é'.repeat(500)}"}`,
    ];
    for (const body of bodies) assert.deepEqual(actual(body), expected(body), JSON.stringify(body));
  });

  it('3,000 random bodies, respelled and mutated', () => {
    const rnd = rng(2024);
    let syntaxErrors = 0;
    for (let i = 0; i < 3000; i++) {
      const value = { ...(randomValue(rnd, 1) as object), file_data: rnd() < 0.8 ? STRINGS[Math.floor(rnd() * STRINGS.length)] : randomValue(rnd, 1) };
      let body = respell(JSON.stringify(value), rnd);
      if (rnd() < 0.5) body = mutate(body, rnd);
      const want = expected(body);
      if ((want as { kind: string }).kind === 'syntax') syntaxErrors++;
      assert.deepEqual(actual(body), want, JSON.stringify(body));
    }
    assert.ok(syntaxErrors > 500, `only ${syntaxErrors} invalid bodies`);
  });

  it('file_data stays bytes: a view of the body, its echo cut to 80 characters', () => {
    const data = 'QUJD'.repeat(10_000);
    const buf = Buffer.from(JSON.stringify({ mode: 'general', file_data: data }));
    const r = splitJsonBody(buf, 'file_data', MAX);
    assert.equal(r.kind, 'parsed');
    if (r.kind !== 'parsed') return;
    assert.equal(r.big!.bytes.buffer, buf.buffer);
    assert.equal(r.big!.bytes.toString(), data);
    assert.deepEqual(r.value, { mode: 'general', file_data: `${data.slice(0, 80)}…` });
  });

  it('the fields besides file_data are capped (a 413), whatever their shape', () => {
    const big = 'x'.repeat(MAX);
    for (const body of [
      JSON.stringify({ file_data: 'QUJD', finetune_comment: big }),
      JSON.stringify({ file_data: [big] }),
      JSON.stringify([big]),
      JSON.stringify(big),
    ]) {
      assert.throws(
        () => splitJsonBody(Buffer.from(body), 'file_data', MAX),
        (err: unknown) => err instanceof BodyFieldsTooLarge,
      );
    }
    // Invalid JSON is still invalid JSON, however large.
    assert.throws(
      () => splitJsonBody(Buffer.from(`{"file_data":"QUJD","finetune_comment":"${big}"`), 'file_data', MAX),
      (err: unknown) => err instanceof JsonSyntaxError,
    );
    // file_data itself is not counted.
    assert.equal(splitJsonBody(Buffer.from(JSON.stringify({ file_data: big })), 'file_data', MAX).kind, 'parsed');
  });
});
