// The whole flux-mini denoiser as one graph for pretraining: byte ids → text encoder → (txt, y) →
// FLUX → velocity, so the text encoder learns jointly with the transformer. Finetuning and
// sampling freeze the text encoder and run it separately (its outputs are per caption, not per step).

import { Graph, type Value } from '../../engine/graph.ts';
import { FLUX_INPUT } from '../flux/build.ts';
import { fluxDims } from '../flux/config.ts';
import { Flux } from '../flux/model.ts';
import { ParamStore } from '../flux/params.ts';
import { velocityOutput } from '../flux/prediction.ts';
import { TextEncoder } from '../text/encoder.ts';
import { type FluxMiniConfig, textTokens } from './config.ts';

export const IDS_INPUT = 'ids';
export const WORDS_INPUT = 'words';
export const WORD_WEIGHTS_INPUT = 'word_weights';

export interface JointGraph {
  graph: Graph;
  store: ParamStore;
  ids: Value;
  words?: Value;
  out: Value;
}

export function buildJointGraph(c: FluxMiniConfig, batch: number, imgTokens: number): JointGraph {
  const g = new Graph();
  const store = new ParamStore(g, 'float32');
  const ids = g.input(IDS_INPUT, [batch, c.text_encoder.max_bytes], 'int64');
  const words = c.text_encoder.word_buckets ? g.input(WORDS_INPUT, [batch, c.text_encoder.max_bytes], 'int64') : undefined;
  const wordWeights = c.text_encoder.pooled_words ? g.input(WORD_WEIGHTS_INPUT, [batch, c.text_encoder.max_bytes]) : undefined;
  const { txt, y } = new TextEncoder(c.text_encoder, (k, s) => store.param(k, s)).forward(ids, words, wordWeights);
  const D = fluxDims(c.flux).headDim;
  const L = textTokens(c) + imgTokens;
  const img = g.input(FLUX_INPUT.img, [batch, imgTokens, c.flux.in_channels]);
  const timesteps = g.input(FLUX_INPUT.timesteps, [batch]);
  const raw = new Flux(c.flux, store).forward({
    img,
    txt,
    y,
    timesteps,
    pe: { cos: g.input(FLUX_INPUT.peCos, [batch, L, 1, D]), sin: g.input(FLUX_INPUT.peSin, [batch, L, 1, D]) },
  });
  const out = velocityOutput(c.prediction, raw, img, timesteps);
  return { graph: g, store, ids, words, out };
}
