// Runs the frozen text encoder once per distinct caption; finetuning and sampling then feed the
// cached (txt, y) to the transformer, so the encoder costs nothing per denoising or training step.

import { Graph } from '../../engine/graph.ts';
import { Session } from '../../engine/session.ts';
import { ParamStore } from '../flux/params.ts';
import { frozenWeights } from '../flux/weights.ts';
import type { Tensors } from '../tensors.ts';
import { captionFeeds } from '../text/caption-feeds.ts';
import { TextEncoder } from '../text/encoder.ts';
import type { FluxMiniConfig } from './config.ts';
import { IDS_INPUT, WORD_WEIGHTS_INPUT, WORDS_INPUT } from './graph.ts';

export interface Encoded {
  /** [L_txt · context_in_dim] */
  txt: Float32Array;
  /** [vec_in_dim] */
  y: Float32Array;
}

/** Distinct captions kept encoded: a server sees unbounded prompts, a control-variant run tens of thousands. */
const CACHED_CAPTIONS = 4096;

export class TextEncoderSession {
  private readonly cache = new Map<string, Encoded>();

  private constructor(
    private readonly config: FluxMiniConfig,
    private readonly session: Session,
  ) {}

  static async create(config: FluxMiniConfig, weights: Tensors, threads?: number): Promise<TextEncoderSession> {
    const g = new Graph();
    const store = new ParamStore(g, 'float32');
    const ids = g.input(IDS_INPUT, [1, config.text_encoder.max_bytes], 'int64');
    const words = config.text_encoder.word_buckets ? g.input(WORDS_INPUT, [1, config.text_encoder.max_bytes], 'int64') : undefined;
    const wordWeights = config.text_encoder.pooled_words ? g.input(WORD_WEIGHTS_INPUT, [1, config.text_encoder.max_bytes]) : undefined;
    const { txt, y } = new TextEncoder(config.text_encoder, (k, s) => store.param(k, s)).forward(ids, words, wordWeights);
    const session = await Session.create({ outputs: { txt, y }, frozen: frozenWeights(store.params, weights), threads });
    return new TextEncoderSession(config, session);
  }

  async encode(caption: string): Promise<Encoded> {
    const hit = this.cache.get(caption);
    if (hit) {
      // most recently used last: Map iteration order is the eviction order
      this.cache.delete(caption);
      this.cache.set(caption, hit);
      return hit;
    }
    const { max_bytes, word_buckets, pooled_words } = this.config.text_encoder;
    const { ids, words, weights } = captionFeeds(caption, max_bytes, word_buckets);
    const feeds: Record<string, BigInt64Array | Float32Array> = { [IDS_INPUT]: ids };
    if (word_buckets) feeds[WORDS_INPUT] = words;
    if (pooled_words) feeds[WORD_WEIGHTS_INPUT] = weights;
    const out = await this.session.run(feeds);
    const enc = { txt: out.txt as Float32Array, y: out.y as Float32Array };
    this.cache.set(caption, enc);
    if (this.cache.size > CACHED_CAPTIONS) this.cache.delete(this.cache.keys().next().value!);
    return enc;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
