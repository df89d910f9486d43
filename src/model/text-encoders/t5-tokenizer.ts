// T5's SentencePiece-Unigram tokenizer from a FLUX.1 `tokenizer_2/` folder's tokenizer.json
// (Precompiled normaliser, Metaspace pre-tokenizer, Unigram model, "… </s>" template), padded with
// <pad> (id 0) to FLUX's length: 512 for dev, 256 for schnell. A folder with only spiece.model
// (the slow tokenizer's SentencePiece protobuf) is refused: converting it is not done here.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PaddedTokenizer } from './padded-tokenizer.ts';
import { readJson, specialToken, tokenizerConfig } from './tokenizer-files.ts';

/** FLUX.1-dev's T5 length (BFL util.py load_t5(max_length=512); schnell uses 256). */
export const T5_MAX_LENGTH_DEV = 512;
export const T5_MAX_LENGTH_SCHNELL = 256;

export function loadT5Tokenizer(dir: string, maxLength = T5_MAX_LENGTH_DEV): PaddedTokenizer {
  const jsonPath = join(dir, 'tokenizer.json');
  if (!existsSync(jsonPath)) {
    const hint = existsSync(join(dir, 'spiece.model'))
      ? ' (it has spiece.model only: save the fast tokenizer, T5TokenizerFast.save_pretrained, to get tokenizer.json)'
      : '';
    throw new Error(`${dir}: no T5 tokenizer.json${hint}`);
  }
  const config = tokenizerConfig(dir);
  return PaddedTokenizer.fromJson(readJson(jsonPath), config, { maxLength, padToken: specialToken(config, 'pad_token', '<pad>') }, 'T5');
}
