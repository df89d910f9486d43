// Where an encoder's files are. Either a diffusers FLUX.1 root (`text_encoder/` = CLIP,
// `text_encoder_2/` = T5, each config.json + safetensors, sharded with model.safetensors.index.json
// for T5; `tokenizer/`, `tokenizer_2/`), or one component folder, whose tokenizer is its sibling
// (`../tokenizer_2` next to `text_encoder_2/`), or files in the folder itself.

import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface ComponentDirs {
  model: string;
  tokenizer: string;
}

const TOKENIZER_OF: Record<string, string> = { text_encoder: 'tokenizer', text_encoder_2: 'tokenizer_2' };

export function componentDirs(dir: string, component: 'text_encoder' | 'text_encoder_2', tokenizerDir?: string): ComponentDirs {
  const sub = join(dir, component);
  const model = existsSync(join(sub, 'config.json')) ? sub : dir;
  if (!existsSync(join(model, 'config.json')))
    throw new Error(`${dir}: neither ${component}/config.json nor config.json (a diffusers FLUX.1 folder, or the ${component} folder itself)`);
  if (tokenizerDir) return { model, tokenizer: tokenizerDir };
  const name = TOKENIZER_OF[basename(model)] ?? TOKENIZER_OF[component]!;
  const sibling = join(dirname(model), name);
  return { model, tokenizer: existsSync(sibling) ? sibling : model };
}
