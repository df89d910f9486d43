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

interface WordSpan {
  /** first and one-past-last position in `tokenize`'s output (BOS shifts bytes by one), truncated */
  start: number;
  end: number;
  bucket: number;
}

/** Case-folded (ASCII) words, hashed with 32-bit FNV-1a into 1…buckets−1; the whole word is hashed even where truncation cuts it. */
function wordSpans(text: string, maxLength: number, buckets: number): WordSpan[] {
  if (!Number.isInteger(buckets) || buckets < 2) throw new Error(`wordIds: buckets must be an integer ≥ 2, got ${buckets}`);
  const bytes = new TextEncoder().encode(text.normalize('NFC'));
  const n = Math.min(bytes.length, maxLength - 2);
  const spans: WordSpan[] = [];
  let start = 0;
  while (start < n) {
    if (isSeparator(bytes[start]!)) {
      start++;
      continue;
    }
    let end = start;
    let h = 0x811c9dc5;
    while (end < bytes.length && !isSeparator(bytes[end]!)) {
      const b = bytes[end]!;
      h = Math.imul(h ^ (b >= 0x41 && b <= 0x5a ? b + 32 : b), 0x01000193) >>> 0;
      end++;
    }
    spans.push({ start: 1 + start, end: 1 + Math.min(end, n), bucket: 1 + (h % (buckets - 1)) });
    start = end;
  }
  return spans;
}

/**
 * For each position of `tokenize(text, maxLength)`, the hash bucket of the word the byte belongs to,
 * 0 for BOS/EOS/padding/separators. Any word — a trigger word included — has a bucket without a
 * vocabulary file; the text encoder adds a learned embedding per bucket (fastText-style hashing),
 * which gives it each word's identity at once instead of having to compose it from bytes.
 */
export function wordIds(text: string, maxLength: number, buckets: number): Int32Array {
  const out = new Int32Array(maxLength);
  for (const w of wordSpans(text, maxLength, buckets)) out.fill(w.bucket, w.start, w.end);
  return out;
}

/** Per position, 1 / (the word's length in positions), 0 outside words: summing a per-position value with these weights counts each word once. */
export function wordWeights(text: string, maxLength: number): Float32Array {
  const out = new Float32Array(maxLength);
  for (const w of wordSpans(text, maxLength, 2)) out.fill(1 / (w.end - w.start), w.start, w.end);
  return out;
}
