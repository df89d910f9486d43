import { DatasetRejection } from './dataset-rejection.ts';

/** file_data → ZIP bytes. Tolerates a `data:…;base64,` prefix and line breaks (some encoders wrap at 76). */
export function decodeBase64Zip(fileData: string, maxZipBytes: number): Buffer {
  return decodeBase64ZipInPlace(Buffer.from(fileData, 'utf8'), maxZipBytes, 'text');
}

/**
 * As decodeBase64Zip, from bytes, decoding into the same memory (the ZIP returned is a view of `raw`,
 * whose contents are overwritten): a 130 MB upload costs 130 MB, not a string, a cleaned copy and the
 * ZIP besides. `source: 'json'` means the bytes are a JSON string literal as sent, between its quotes
 * and with its escapes (`\/`, `\n`, `\u…`), already checked to be valid JSON (checkJsonStringContent).
 *
 * The rules are decodeBase64Zip's of old, which read `fileData.trim().replace(/^data:[^,]*?,/, '')
 * .replace(/\s+/g, '')`, then tested it against /^[A-Za-z0-9+/_-]*={0,2}$/: the same checks in the same
 * order, with the same messages.
 */
export function decodeBase64ZipInPlace(raw: Buffer, maxZipBytes: number, source: 'text' | 'json'): Buffer {
  const bytes = decodeBase64InPlace(raw, maxZipBytes, source);
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) {
    // An empty ZIP is only an end-of-central-directory record, which has no images either.
    if (bytes.length >= 22 && bytes.readUInt32LE(0) === 0x06054b50) throw new DatasetRejection('the ZIP is empty: it contains no images');
    throw new DatasetRejection('file_data is not a ZIP archive');
  }
  return bytes;
}

/** The base64 part of decodeBase64ZipInPlace: cleaned, checked, size-capped and decoded, with no look at what it decodes to. */
export function decodeBase64InPlace(raw: Buffer, maxZipBytes: number, source: 'text' | 'json'): Buffer {
  const length = compactBase64(raw, source === 'json');
  if (length === 0) throw new DatasetRejection('file_data is empty');
  // Checked before decoding (the old order; nothing more is allocated here either way).
  if (Math.floor((length * 3) / 4) > maxZipBytes + 3) {
    throw new DatasetRejection(`the ZIP is larger than the ${Math.round(maxZipBytes / 1024 / 1024)} MB limit`);
  }
  // Four characters make three bytes, so the output never overtakes the input: each slice is copied
  // into a short-lived string before its bytes are overwritten. Slices are whole groups of four, so
  // the result is what decoding the cleaned text in one piece gives.
  let out = 0;
  for (let at = 0; at < length; at += DECODE_SLICE) {
    out += raw.write(raw.toString('latin1', at, Math.min(length, at + DECODE_SLICE)), out, 'base64');
  }
  return raw.subarray(0, out);
}

const DECODE_SLICE = 4 << 20;
const SCAN_SLICE = 4 << 20;
const INVALID = 'file_data is not valid base64';

const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const COMMA = 0x2c;
/** The smallest code point a sequence of 1 + n bytes may encode (anything less is overlong, hence malformed). */
const MIN_CODE_POINT = [0, 0x80, 0x800, 0x10000];

/** Bytes of the base64 alphabet (standard and URL-safe, as the old regex allowed). */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') ALPHABET[c.charCodeAt(0)] = 1;
/** Anything that is not: found by the regex engine a slice at a time, so clean base64 is never looped over in JS. */
const NOT_ALPHABET = /[^A-Za-z0-9+/_-]/g;

/** JavaScript's \s (and what trim() removes). */
function isJsWhitespace(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x20 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000 ||
    cp === 0xfeff
  );
}

/** One character at `at`: its code point (a UTF-16 unit for a \u escape) and where the next begins. */
interface Char {
  cp: number;
  next: number;
}

function readChar(raw: Buffer, at: number, json: boolean): Char {
  const b = raw[at]!;
  if (b < 0x80) {
    if (json && b === BACKSLASH) {
      const e = raw[at + 1]!;
      switch (e) {
        case 0x62: // b
          return { cp: 0x08, next: at + 2 };
        case 0x66: // f
          return { cp: 0x0c, next: at + 2 };
        case 0x6e: // n
          return { cp: 0x0a, next: at + 2 };
        case 0x72: // r
          return { cp: 0x0d, next: at + 2 };
        case 0x74: // t
          return { cp: 0x09, next: at + 2 };
        case 0x75: // u
          return { cp: Number.parseInt(raw.toString('latin1', at + 2, at + 6), 16), next: at + 6 };
        default: // " \ /
          return { cp: e, next: at + 2 };
      }
    }
    return { cp: b, next: at + 1 };
  }
  // UTF-8. Malformed sequences decode to U+FFFD (as Buffer#toString would), which is not whitespace.
  const need = b >= 0xf5 ? 0 : b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 ? 1 : 0;
  if (need === 0 || at + need >= raw.length) return { cp: 0xfffd, next: at + 1 };
  let cp = b & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const c = raw[at + k]!;
    if ((c & 0xc0) !== 0x80) return { cp: 0xfffd, next: at + 1 };
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < MIN_CODE_POINT[need]! || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { cp: 0xfffd, next: at + 1 };
  return { cp, next: at + need + 1 };
}

/**
 * Moves the base64 characters of `raw` to its start and returns how many there are: leading
 * whitespace and a data: prefix dropped, whitespace anywhere removed, escapes decoded. Throws
 * "not valid base64" at the first character that is none of these (or a character after padding).
 */
function compactBase64(raw: Buffer, json: boolean): number {
  const end = raw.length;
  let at = 0;
  // trim(): leading whitespace, then the data: prefix (up to the first comma), as the old regex read it.
  while (at < end) {
    const c = readChar(raw, at, json);
    if (!isJsWhitespace(c.cp)) break;
    at = c.next;
  }
  at = afterDataPrefix(raw, at, json);

  let out = 0;
  let pads = 0;
  // Runs of alphabet bytes between the regex's matches are copied down (or left where they are while
  // nothing has been removed yet); each match is one character, looked at on its own.
  const keep = (from: number, to: number) => {
    if (to <= from) return;
    if (pads > 0) throw new DatasetRejection(INVALID);
    if (out !== from) raw.copyWithin(out, from, to);
    out += to - from;
  };
  const keepChar = (cp: number) => {
    if (cp === EQUALS) {
      if (++pads > 2) throw new DatasetRejection(INVALID);
    } else if (cp < 0x80 && ALPHABET[cp] === 1) {
      if (pads > 0) throw new DatasetRejection(INVALID);
    } else if (isJsWhitespace(cp)) {
      return;
    } else {
      throw new DatasetRejection(INVALID);
    }
    raw[out++] = cp;
  };
  while (at < end) {
    const sliceEnd = Math.min(end, at + SCAN_SLICE);
    const text = raw.toString('latin1', at, sliceEnd);
    NOT_ALPHABET.lastIndex = 0;
    let runStart = at;
    let next = sliceEnd;
    for (let m = NOT_ALPHABET.exec(text); m !== null; m = NOT_ALPHABET.exec(text)) {
      const pos = at + m.index;
      keep(runStart, pos);
      const c = readChar(raw, pos, json);
      keepChar(c.cp);
      runStart = c.next;
      // An escape or a UTF-8 sequence may run past this slice: the next one starts after it.
      if (c.next >= sliceEnd) {
        next = c.next;
        break;
      }
      NOT_ALPHABET.lastIndex = c.next - at;
    }
    if (runStart < next) keep(runStart, next);
    at = next;
  }
  return out;
}

/** Where the base64 starts: after "data:…," when the text (from `at`) starts with "data:" and has a comma. */
function afterDataPrefix(raw: Buffer, at: number, json: boolean): number {
  let p = at;
  for (const expected of [0x64, 0x61, 0x74, 0x61, 0x3a]) {
    if (p >= raw.length) return at;
    const c = readChar(raw, p, json);
    if (c.cp !== expected) return at;
    p = c.next;
  }
  // Commas are rare: jump between raw commas, and only walk character by character when the text
  // holds escapes (one could spell a comma).
  if (!json || raw.indexOf(BACKSLASH, p) === -1) {
    const comma = raw.indexOf(COMMA, p);
    return comma === -1 ? at : comma + 1;
  }
  while (p < raw.length) {
    const c = readChar(raw, p, json);
    if (c.cp === COMMA) return c.next;
    p = c.next;
  }
  return at;
}
