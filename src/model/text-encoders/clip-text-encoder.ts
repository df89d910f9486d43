// FLUX.1's `y` encoder: the CLIP-L text model from a diffusers folder, tokenised and padded to 77
// as BFL's HFEmbedder does, pooler_output [B, 768].

import { join } from 'node:path';
import { CheckpointFiles } from './checkpoint-files.ts';
import { ClipTextRunner } from './clip-runner.ts';
import { CLIP_MAX_LENGTH, loadClipTokenizer } from './clip-tokenizer.ts';
import { componentDirs } from './component-folder.ts';
import { type ClipTextConfig, parseClipTextConfig } from './config.ts';
import type { PaddedTokenizer } from './padded-tokenizer.ts';
import type { TextEncoderLoadOptions } from './t5-text-encoder.ts';
import { embedding, type TextEmbedding } from './text-embedding.ts';
import { readJson } from './tokenizer-files.ts';

export interface ClipTextForward {
  /** [B, L, hidden] after final_layer_norm. */
  lastHiddenState: TextEmbedding;
  /** [B, hidden]: FLUX's `y`. */
  pooled: TextEmbedding;
}

export class ClipTextEncoder {
  constructor(
    readonly config: ClipTextConfig,
    readonly tokenizer: PaddedTokenizer,
    readonly runner: ClipTextRunner,
  ) {}

  get maxLength(): number {
    return this.runner.length;
  }

  /** Prompts → pooler_output [B, hidden]. */
  async encode(prompts: readonly string[]): Promise<TextEmbedding> {
    return (await this.forward(this.tokenizer.encodeBatch(prompts))).pooled;
  }

  /** Token ids [B][maxLength] → last_hidden_state and pooler_output. */
  async forward(inputIds: readonly (readonly number[])[]): Promise<ClipTextForward> {
    const { lastHiddenState, pooledOutput } = await this.runner.forward(inputIds);
    const B = inputIds.length;
    const d = this.config.hidden_size;
    return { lastHiddenState: embedding(lastHiddenState, [B, this.maxLength, d]), pooled: embedding(pooledOutput, [B, d]) };
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}

/** CLIP text model + tokenizer from a FLUX.1 diffusers folder or its `text_encoder/`. */
export async function loadClipTextModel(dir: string, o: TextEncoderLoadOptions = {}): Promise<ClipTextEncoder> {
  const dirs = componentDirs(dir, 'text_encoder', o.tokenizerDir);
  const config = parseClipTextConfig(readJson(join(dirs.model, 'config.json')));
  const maxLength = o.maxLength ?? Math.min(CLIP_MAX_LENGTH, config.max_position_embeddings);
  const tokenizer = loadClipTokenizer(dirs.tokenizer, maxLength);
  const runner = await ClipTextRunner.create({
    config,
    weights: CheckpointFiles.open(dirs.model),
    length: maxLength,
    dtype: o.dtype,
    threads: o.threads,
    executionProviders: o.executionProviders,
  });
  return new ClipTextEncoder(config, tokenizer, runner);
}
