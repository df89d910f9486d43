// Reading a Hugging Face tokenizer folder: tokenizer.json, tokenizer_config.json and
// special_tokens_map.json, whose special tokens are a string or an AddedToken object
// ({ "content": "<pad>", … }).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

export function readJsonIfPresent(path: string): Record<string, unknown> {
  return existsSync(path) ? readJson(path) : {};
}

/** tokenizer_config.json with special_tokens_map.json's entries filled in where the config lacks them. */
export function tokenizerConfig(dir: string): Record<string, unknown> {
  return { ...readJsonIfPresent(join(dir, 'special_tokens_map.json')), ...readJsonIfPresent(join(dir, 'tokenizer_config.json')) };
}

export function specialToken(config: Record<string, unknown>, name: string, fallback: string): string {
  const v = config[name];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return fallback;
}
