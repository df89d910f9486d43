// DoubleStreamBlock: image and text tokens keep separate weights (modulation, attention
// projections, MLP) and meet only inside one joint attention, text first.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { attention, type PositionEmbedding, SelfAttention } from './attention.ts';
import { Linear } from './linear.ts';
import { Modulation, type ModulationOut, modulatedNorm } from './modulation.ts';
import type { ParamStore } from './params.ts';

/** BFL's `Sequential(Linear, GELU(tanh), Linear)`, hence the keys `.0` and `.2`. */
export class Mlp {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(store: ParamStore, path: string, hidden: number, mlpHidden: number) {
    this.fc1 = new Linear(store, `${path}.0`, hidden, mlpHidden);
    this.fc2 = new Linear(store, `${path}.2`, mlpHidden, hidden);
  }

  forward(x: Value): Value {
    return this.fc2.forward(F.gelu(this.fc1.forward(x), 'tanh'));
  }
}

/** One stream's weights: `img_*` or `txt_*`. */
class Stream {
  readonly mod: Modulation;
  readonly attn: SelfAttention;
  readonly mlp: Mlp;

  constructor(store: ParamStore, path: string, prefix: 'img' | 'txt', hidden: number, heads: number, mlpHidden: number, qkvBias: boolean) {
    this.mod = new Modulation(store, `${path}.${prefix}_mod`, hidden, true);
    this.attn = new SelfAttention(store, `${path}.${prefix}_attn`, hidden, heads, qkvBias);
    this.mlp = new Mlp(store, `${path}.${prefix}_mlp`, hidden, mlpHidden);
  }
}

export class DoubleStreamBlock {
  readonly img: Stream;
  readonly txt: Stream;

  constructor(
    store: ParamStore,
    readonly path: string,
    hidden: number,
    heads: number,
    mlpHidden: number,
    qkvBias: boolean,
  ) {
    this.img = new Stream(store, path, 'img', hidden, heads, mlpHidden, qkvBias);
    this.txt = new Stream(store, path, 'txt', hidden, heads, mlpHidden, qkvBias);
  }

  forward(img: Value, txt: Value, vecAct: Value, pe: PositionEmbedding): [Value, Value] {
    const [im1, im2] = this.img.mod.forward(vecAct) as [ModulationOut, ModulationOut];
    const [tm1, tm2] = this.txt.mod.forward(vecAct) as [ModulationOut, ModulationOut];

    const [qi, ki, vi] = this.img.attn.project(modulatedNorm(img, im1));
    const [qt, kt, vt] = this.txt.attn.project(modulatedNorm(txt, tm1));
    const joint = attention(F.concat([qt, qi], 1), F.concat([kt, ki], 1), F.concat([vt, vi], 1), pe);
    const [attnTxt, attnImg] = F.split(joint, [txt.shape[1]!, img.shape[1]!], 1) as [Value, Value];

    let i = F.add(img, F.mul(im1.gate, this.img.attn.proj.forward(attnImg)));
    i = F.add(i, F.mul(im2.gate, this.img.mlp.forward(modulatedNorm(i, im2))));
    let t = F.add(txt, F.mul(tm1.gate, this.txt.attn.proj.forward(attnTxt)));
    t = F.add(t, F.mul(tm2.gate, this.txt.mlp.forward(modulatedNorm(t, tm2))));
    return [i, t];
  }
}
