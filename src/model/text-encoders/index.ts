// The text encoders' public surface for the FLUX.1 pipeline (see README.md in this folder).

export type { CheckpointFiles } from './checkpoint-files.ts';
export { ClipTextEncoder, type ClipTextForward, loadClipTextModel } from './clip-text-encoder.ts';
export { CLIP_L_TEXT, type ClipTextConfig, parseClipTextConfig, parseT5Config, T5_V1_1_XXL, type T5Config } from './config.ts';
export type { PaddedTokenizer } from './padded-tokenizer.ts';
export { loadT5Encoder, T5TextEncoder, type TextEncoderLoadOptions } from './t5-text-encoder.ts';
export { T5_MAX_LENGTH_DEV, T5_MAX_LENGTH_SCHNELL } from './t5-tokenizer.ts';
export type { TextEmbedding } from './text-embedding.ts';
