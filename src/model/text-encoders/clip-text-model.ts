// CLIPTextModel: the text tower under `text_model.*`, no projection (FLUX uses pooler_output
// itself as `y`, not CLIPTextModelWithProjection's text_embeds).

import type { Value } from '../../engine/graph.ts';
import { type ClipTextOutputs, ClipTextTransformer } from './clip-text-transformer.ts';
import type { ClipTextConfig } from './config.ts';
import type { TextParamStore } from './params.ts';

export class ClipTextModel {
  readonly textModel: ClipTextTransformer;

  constructor(store: TextParamStore, config: ClipTextConfig) {
    this.textModel = new ClipTextTransformer(store, 'text_model', config);
  }

  forward(inputIds: Value): ClipTextOutputs {
    return inputIds.graph.scope('text_model', () => this.textModel.forward(inputIds));
  }
}
