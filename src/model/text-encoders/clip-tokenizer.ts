// CLIP's tokenizer from a FLUX.1 `tokenizer/` folder: its tokenizer.json when there is one, else
// vocab.json + merges.txt converted as transformers' CLIPConverter does (clip-tokenizer-json.ts).
// FLUX pads to 77 = max_position_embeddings with pad_token, which FLUX.1's tokenizer_config.json
// sets to <|endoftext|> (so the row after the text is EOS repeated).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_SPECIAL_TOKENS, clipTokenizerJson, parseMerges } from './clip-tokenizer-json.ts';
import { PaddedTokenizer } from './padded-tokenizer.ts';
import { readJson, specialToken, tokenizerConfig } from './tokenizer-files.ts';

export const CLIP_MAX_LENGTH = 77;

export function loadClipTokenizer(dir: string, maxLength = CLIP_MAX_LENGTH): PaddedTokenizer {
  const config = tokenizerConfig(dir);
  const special = {
    bos: specialToken(config, 'bos_token', CLIP_SPECIAL_TOKENS.bos),
    eos: specialToken(config, 'eos_token', CLIP_SPECIAL_TOKENS.eos),
    unk: specialToken(config, 'unk_token', CLIP_SPECIAL_TOKENS.unk),
  };
  const padToken = specialToken(config, 'pad_token', special.eos);
  const jsonPath = join(dir, 'tokenizer.json');
  let json: object;
  if (existsSync(jsonPath)) json = readJson(jsonPath);
  else if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) {
    json = clipTokenizerJson(readJson(join(dir, 'vocab.json')) as Record<string, number>, parseMerges(readFileSync(join(dir, 'merges.txt'), 'utf8')), special);
  } else throw new Error(`${dir}: no CLIP tokenizer (tokenizer.json, or vocab.json and merges.txt)`);
  return PaddedTokenizer.fromJson(json, config, { maxLength, padToken }, 'CLIP');
}
