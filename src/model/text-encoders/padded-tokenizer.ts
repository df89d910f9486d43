// A tokenizer.json run by @huggingface/tokenizers (offline, pure JS), with the truncation and
// padding FLUX's HFEmbedder asks of transformers: `tokenizer(text, truncation=True,
// max_length=L, padding="max_length")`. @huggingface/tokenizers does neither, so they are done
// here the way transformers does them for one sequence: the special tokens the post-processor
// adds (CLIP: <|startoftext|> … <|endoftext|>; T5: … </s>) are kept, the text's own tokens are
// cut from the right to make room for them, and the row is padded on the right with pad_token.

import { Tokenizer } from '@huggingface/tokenizers';

export interface PaddedTokenizerOptions {
  maxLength: number;
  /** The pad token's text (tokenizer_config.json's pad_token). */
  padToken: string;
}

export class PaddedTokenizer {
  readonly padId: number;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly maxLength: number,
    padToken: string,
    readonly what: string,
  ) {
    const id = tokenizer.token_to_id(padToken);
    if (id === undefined) throw new Error(`${what} tokenizer: the pad token '${padToken}' is not in its vocabulary`);
    this.padId = id;
  }

  static fromJson(json: object, config: object, o: PaddedTokenizerOptions, what: string): PaddedTokenizer {
    return new PaddedTokenizer(new Tokenizer(json, config), o.maxLength, o.padToken, what);
  }

  /** The specials the post-processor puts before and after a text's tokens. */
  private specials(text: string): { plain: number[]; prefix: number[]; suffix: number[] } {
    const plain: number[] = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const full: number[] = this.tokenizer.encode(text).ids;
    const extra = full.length - plain.length;
    for (let p = 0; p <= extra; p++) {
      if (plain.every((id: number, i: number) => full[p + i] === id)) return { plain, prefix: full.slice(0, p), suffix: full.slice(p + plain.length) };
    }
    throw new Error(`${this.what} tokenizer: its post-processor reorders tokens, which truncation here does not handle`);
  }

  /** One text → exactly maxLength ids. */
  encode(text: string): number[] {
    const { plain, prefix, suffix } = this.specials(text);
    const room = this.maxLength - prefix.length - suffix.length;
    if (room < 0) throw new Error(`${this.what} tokenizer: max_length ${this.maxLength} cannot hold its ${prefix.length + suffix.length} special tokens`);
    const ids = [...prefix, ...plain.slice(0, room), ...suffix];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }

  encodeBatch(texts: readonly string[]): number[][] {
    return texts.map((t) => this.encode(t));
  }

  /** How many of a text's own tokens fit (what truncation dropped is visible to callers who warn). */
  tokenCount(text: string): number {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  }
}
