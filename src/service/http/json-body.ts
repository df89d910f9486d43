// A JSON body with one huge string field (file_data: up to ~134 MB of base64), read without turning
// the body into a string: the huge field stays bytes in the body's own memory, everything else is
// parsed by JSON.parse, slice by slice. What JSON.parse would refuse is refused with its own message.

/** The body is not JSON. `message` is JSON.parse's for the same text. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

/** Everything but the huge field is over the cap: a 100 MB finetune_comment is not a request, it is an attack on the database. */
export class BodyFieldsTooLarge extends Error {
  override name = 'BodyFieldsTooLarge';
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the request's fields other than file_data take ${bytes} bytes; at most ${limit} are accepted`);
  }
}

/** The huge field's string: bytes as sent between the quotes ('json': escapes still in place) or already decoded ('text'). */
export interface BigString {
  bytes: Buffer;
  source: 'json' | 'text';
}

export type SplitBody =
  | { kind: 'empty' }
  /**
   * `value`: the body as JSON.parse would give it, except that the huge field, when it is a string,
   * holds its first 80 characters and "…" (what a 422 echoes of it) and is in `big` instead.
   */
  | { kind: 'parsed'; value: unknown; big: BigString | null };

/** Echoes of the huge field are cut to this many characters and "…" (as pydantic-errors' echoInput cuts every echo). */
export const ECHO_CHARS = 80;

/** The scanner met something it does not handle itself (a syntax error, an oversized field): JSON.parse decides. */
class Fallback extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const SLICE = 4 << 20;

/**
 * Splits `buf` (a request body) into its small fields, parsed, and `bigField`'s string, as bytes.
 * The body as a whole is checked as JSON.parse checks it: the same documents are accepted and refused
 * (with JSON.parse's message). Bodies the scanner is unsure of are handed to JSON.parse whole.
 */
export function splitJsonBody(buf: Buffer, bigField: string, maxOtherBytes: number): SplitBody {
  try {
    return scan(buf, bigField, maxOtherBytes);
  } catch (err) {
    if (!(err instanceof Fallback)) throw err;
    return viaJsonParse(buf, bigField, maxOtherBytes);
  }
}

function scan(buf: Buffer, bigField: string, maxOtherBytes: number): SplitBody {
  const n = buf.length;
  let i = skipWhitespace(buf, 0);
  if (i === n) return { kind: 'empty' };
  // Not an object (or not JSON): small, or an attack either way; JSON.parse says which.
  if (buf[i] !== OPEN_BRACE) throw new Fallback();
  const fields: Record<string, unknown> = {};
  let big: { start: number; end: number } | null = null;
  i = skipWhitespace(buf, i + 1);
  if (buf[i] === CLOSE_BRACE) {
    i++;
  } else {
    for (;;) {
      if (buf[i] !== QUOTE) throw new Fallback();
      const keyEnd = stringEnd(buf, i);
      const key = parseSlice(buf, i, keyEnd + 1) as string;
      i = skipWhitespace(buf, keyEnd + 1);
      if (buf[i] !== COLON) throw new Fallback();
      i = skipWhitespace(buf, i + 1);
      if (key === bigField && buf[i] === QUOTE) {
        const end = stringEnd(buf, i);
        checkStringContent(buf, i + 1, end);
        big = { start: i + 1, end };
        define(fields, key, echoOf(buf, i + 1, end));
        i = end + 1;
      } else {
        const end = valueEnd(buf, i);
        if (end - i > maxOtherBytes) throw new Fallback();
        define(fields, key, parseSlice(buf, i, end));
        // JSON.parse keeps the last of duplicate keys.
        if (key === bigField) big = null;
        i = end;
      }
      i = skipWhitespace(buf, i);
      if (buf[i] === COMMA) {
        i = skipWhitespace(buf, i + 1);
        continue;
      }
      if (buf[i] === CLOSE_BRACE) {
        i++;
        break;
      }
      throw new Fallback();
    }
  }
  if (skipWhitespace(buf, i) !== n) throw new Fallback();
  const other = n - (big ? big.end - big.start : 0);
  if (other > maxOtherBytes) throw new BodyFieldsTooLarge(other, maxOtherBytes);
  return { kind: 'parsed', value: fields, big: big ? { bytes: buf.subarray(big.start, big.end), source: 'json' } : null };
}

/** The slow, sure way: the whole body through JSON.parse (only for bodies the scanner refused or did not handle). */
function viaJsonParse(buf: Buffer, bigField: string, maxOtherBytes: number): SplitBody {
  const text = buf.toString('utf8');
  // FastAPI calls a blank body a missing one.
  if (text.trim() === '') return { kind: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new JsonSyntaxError((err as Error).message);
  }
  let big: BigString | null = null;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const s = record[bigField];
    if (typeof s === 'string') {
      big = { bytes: Buffer.from(s, 'utf8'), source: 'text' };
      record[bigField] = s.length > ECHO_CHARS ? `${s.slice(0, ECHO_CHARS)}…` : s;
    }
  }
  const other = buf.length - (big?.bytes.length ?? 0);
  if (other > maxOtherBytes) throw new BodyFieldsTooLarge(other, maxOtherBytes);
  return { kind: 'parsed', value, big };
}

function skipWhitespace(buf: Buffer, i: number): number {
  for (;;) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i;
    i++;
  }
}

/** Index of the quote that closes the string opening at `open` (memchr-fast on long strings). */
function stringEnd(buf: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = buf.indexOf(QUOTE, from);
    if (q === -1) throw new Fallback();
    let backslashes = 0;
    while (q - 1 - backslashes > open && buf[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}

/** End (exclusive) of the value starting at `i`; what is inside is JSON.parse's to check. */
function valueEnd(buf: Buffer, i: number): number {
  const first = buf[i];
  if (first === QUOTE) return stringEnd(buf, i) + 1;
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < buf.length; j++) {
      const b = buf[j];
      if (b === QUOTE) j = stringEnd(buf, j);
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1;
      }
    }
    throw new Fallback();
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  for (;;) {
    const b = buf[j];
    if (b === undefined || b === COMMA || b === CLOSE_BRACE || b === CLOSE_BRACKET || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) break;
    j++;
  }
  if (j === i) throw new Fallback();
  return j;
}

function parseSlice(buf: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', start, end));
  } catch {
    throw new Fallback();
  }
}

/** As JSON.parse's result, where "__proto__" is an own key like any other. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON forbids raw in a string.
const SPECIAL = /[\x00-\x1f\\]/g;
const HEX = /^[0-9A-Fa-f]{4}$/;

/** What JSON.parse demands of a string's contents: no raw control characters, only its escapes. A slice at a time, by the regex engine. */
function checkStringContent(buf: Buffer, start: number, end: number): void {
  let at = start;
  while (at < end) {
    const sliceEnd = Math.min(end, at + SLICE);
    const text = buf.toString('latin1', at, sliceEnd);
    SPECIAL.lastIndex = 0;
    let next = sliceEnd;
    for (let m = SPECIAL.exec(text); m !== null; m = SPECIAL.exec(text)) {
      const pos = at + m.index;
      if (buf[pos] !== BACKSLASH) throw new Fallback();
      const e = buf[pos + 1];
      let after: number;
      if (e === 0x75) {
        if (!HEX.test(buf.toString('latin1', pos + 2, pos + 6)) || pos + 6 > end) throw new Fallback();
        after = pos + 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        after = pos + 2;
      } else {
        throw new Fallback();
      }
      if (after >= sliceEnd) {
        next = after;
        break;
      }
      SPECIAL.lastIndex = after - at;
    }
    at = next;
  }
}

/** The string's first ECHO_CHARS characters (and "…" when there are more), decoding no more of it than that takes. */
function echoOf(buf: Buffer, start: number, end: number): string {
  // A character is at most 6 bytes as sent (a \u escape): 600 bytes hold more than ECHO_CHARS + 1 of them.
  const limit = Math.min(end, start + 600);
  let cut = start;
  while (cut < limit) {
    const step = buf[cut] === BACKSLASH ? (buf[cut + 1] === 0x75 ? 6 : 2) : 1;
    if (cut + step > limit) break;
    cut += step;
  }
  // Never inside a UTF-8 sequence.
  while (cut > start && cut < end && (buf[cut]! & 0xc0) === 0x80) cut--;
  const s = JSON.parse(`"${buf.toString('utf8', start, cut)}"`) as string;
  return s.length > ECHO_CHARS ? `${s.slice(0, ECHO_CHARS)}…` : s;
}
