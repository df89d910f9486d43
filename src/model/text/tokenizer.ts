// Byte-level tokenizer: every UTF-8 string encodes, so any trigger word ("TOK", "mycstm", "ñandú")
// gets its own token sequence without a vocabulary file.

export const BOS = 256;
export const EOS = 257;
export const PAD = 258;
export const VOCAB_SIZE = 259;

/** Token ids padded (or truncated, keeping EOS) to `maxLength`. */
export function tokenize(text: string, maxLength: number): Int32Array {
  const bytes = new TextEncoder().encode(text.normalize('NFC'));
  const ids = new Int32Array(maxLength).fill(PAD);
  ids[0] = BOS;
  const n = Math.min(bytes.length, maxLength - 2);
  for (let i = 0; i < n; i++) ids[1 + i] = bytes[i]!;
  ids[1 + n] = EOS;
  return ids;
}

export function detokenize(ids: ArrayLike<number>): string {
  const bytes: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (t === EOS) break;
    if (t < 256) bytes.push(t);
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/** Bytes that separate words (ASCII whitespace and punctuation); every other byte is part of a word. */
function isSeparator(b: number): boolean {
  return b <= 0x20 || (b < 0x80 && /[!-/:-@[-`{-~]/.test(String.fromCharCode(b)) && b !== 0x27 && b !== 0x2d);
}

/**
 * For each position of `tokenize(text, maxLength)`, the hash bucket (1…buckets−1) of the word the
 * byte belongs to, 0 for BOS/EOS/padding/separators. Words are case-folded (ASCII) and hashed with
 * 32-bit FNV-1a, so any word — a trigger word included — has a bucket without a vocabulary file;
 * the text encoder adds a learned embedding per bucket (fastText-style hashing), which gives it each
 * word's identity at once instead of having to compose it from bytes.
 */
export function wordIds(text: string, maxLength: number, buckets: number): Int32Array {
  if (!Number.isInteger(buckets) || buckets < 2) throw new Error(`wordIds: buckets must be an integer ≥ 2, got ${buckets}`);
  const bytes = new TextEncoder().encode(text.normalize('NFC'));
  const n = Math.min(bytes.length, maxLength - 2);
  const out = new Int32Array(maxLength);
  let start = 0;
  while (start < n) {
    if (isSeparator(bytes[start]!)) {
      start++;
      continue;
    }
    let end = start;
    let h = 0x811c9dc5;
    // hash the whole word even where truncation cuts it, so a word keeps one bucket
    while (end < bytes.length && !isSeparator(bytes[end]!)) {
      const b = bytes[end]!;
      h = Math.imul(h ^ (b >= 0x41 && b <= 0x5a ? b + 32 : b), 0x01000193) >>> 0;
      end++;
    }
    const bucket = 1 + (h % (buckets - 1));
    for (let i = start; i < Math.min(end, n); i++) out[1 + i] = bucket;
    start = end;
  }
  return out;
}
