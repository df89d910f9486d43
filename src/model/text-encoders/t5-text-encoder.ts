// FLUX.1's `txt` encoder: T5 v1.1 XXL from a diffusers folder, tokenised and padded as BFL's
// HFEmbedder does (max_length 512 for dev, 256 for schnell), last_hidden_state [B, L, 4096].

import { join } from 'node:path';
import type { DType } from '../../engine/dtype.ts';
import { CheckpointFiles } from './checkpoint-files.ts';
import { componentDirs } from './component-folder.ts';
import { parseT5Config, type T5Config } from './config.ts';
import type { PaddedTokenizer } from './padded-tokenizer.ts';
import { T5EncoderRunner } from './t5-runner.ts';
import { loadT5Tokenizer, T5_MAX_LENGTH_DEV } from './t5-tokenizer.ts';
import { embedding, type TextEmbedding } from './text-embedding.ts';
import { readJson } from './tokenizer-files.ts';

export interface TextEncoderLoadOptions {
  /** Tokens per prompt; T5 defaults to 512 (FLUX.1-dev; schnell: 256), CLIP to 77. */
  maxLength?: number;
  dtype?: DType;
  threads?: number;
  executionProviders?: string[];
  /** Where the tokenizer files are, when not the usual sibling folder. */
  tokenizerDir?: string;
  /** T5 only: weight bytes per session (default 1.5 GiB, under ONNX's 2 GB protobuf). */
  maxStageBytes?: number;
}

export class T5TextEncoder {
  constructor(
    readonly config: T5Config,
    readonly tokenizer: PaddedTokenizer,
    readonly runner: T5EncoderRunner,
  ) {}

  get maxLength(): number {
    return this.runner.length;
  }

  /** Prompts → last_hidden_state [B, maxLength, d_model]. */
  async encode(prompts: readonly string[]): Promise<TextEmbedding> {
    return this.forward(this.tokenizer.encodeBatch(prompts));
  }

  /** Token ids [B][maxLength] → last_hidden_state [B, maxLength, d_model]. */
  async forward(inputIds: readonly (readonly number[])[]): Promise<TextEmbedding> {
    return embedding(await this.runner.forward(inputIds), [inputIds.length, this.maxLength, this.config.d_model]);
  }

  release(): Promise<void> {
    return this.runner.release();
  }
}

/** T5 encoder + tokenizer from a FLUX.1 diffusers folder or its `text_encoder_2/`. */
export async function loadT5Encoder(dir: string, o: TextEncoderLoadOptions = {}): Promise<T5TextEncoder> {
  const dirs = componentDirs(dir, 'text_encoder_2', o.tokenizerDir);
  const config = parseT5Config(readJson(join(dirs.model, 'config.json')));
  const maxLength = o.maxLength ?? T5_MAX_LENGTH_DEV;
  const tokenizer = loadT5Tokenizer(dirs.tokenizer, maxLength);
  const runner = await T5EncoderRunner.create({
    config,
    weights: CheckpointFiles.open(dirs.model),
    length: maxLength,
    dtype: o.dtype,
    threads: o.threads,
    maxStageBytes: o.maxStageBytes,
    executionProviders: o.executionProviders,
  });
  return new T5TextEncoder(config, tokenizer, runner);
}
