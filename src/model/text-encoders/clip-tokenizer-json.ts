// The tokenizer.json a diffusers FLUX.1 `tokenizer/` folder implies: it ships the slow
// CLIPTokenizer's vocab.json + merges.txt only, and transformers builds the fast tokenizer from
// them with CLIPConverter (convert_slow_tokenizer.py). The same pipeline, as tokenizer.json:
//   normalizer   NFC, Replace(\s+ → " "), Lowercase
//   pre-tokenizer Split on CLIP's pattern ('s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+,
//                 behaviour Removed, inverted: keep the matches), then ByteLevel(add_prefix_space false)
//   model        BPE with end_of_word_suffix "</w>", no continuing-subword prefix, unk <|endoftext|>
//   post         RobertaProcessing: <|startoftext|> … <|endoftext|>
// so @huggingface/tokenizers runs it offline like any other tokenizer.json.

export interface ClipSpecialTokens {
  bos: string;
  eos: string;
  unk: string;
}

export const CLIP_SPECIAL_TOKENS: ClipSpecialTokens = { bos: '<|startoftext|>', eos: '<|endoftext|>', unk: '<|endoftext|>' };

const CLIP_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** merges.txt lines ("#version" header and blank lines skipped) as "a b" pairs. */
export function parseMerges(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
}

export function clipTokenizerJson(vocab: Record<string, number>, merges: string[], special: ClipSpecialTokens = CLIP_SPECIAL_TOKENS): object {
  const id = (t: string) => {
    const v = vocab[t];
    if (v === undefined) throw new Error(`CLIP tokenizer: vocab.json has no '${t}'`);
    return v;
  };
  const added = [...new Set([special.bos, special.eos, special.unk])].map((content) => ({
    id: id(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [special.eos, id(special.eos)],
      cls: [special.bos, id(special.bos)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: special.unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
