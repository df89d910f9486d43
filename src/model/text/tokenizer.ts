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
