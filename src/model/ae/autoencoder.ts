// BFL's AutoEncoder: `encoder.*` and `decoder.*` under the checkpoint's keys, encode = the
// posterior mean shifted and scaled into the flow model's latent space, decode = the inverse
// then the decoder: z = scale · (mean − shift), x = decoder(z / scale + shift).

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import type { AutoEncoderParams } from './config.ts';
import { Decoder } from './decoder.ts';
import { DiagonalGaussian } from './diagonal-gaussian.ts';
import { Encoder } from './encoder.ts';
import type { AeParamStore } from './params.ts';

export class AutoEncoder {
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  readonly reg = new DiagonalGaussian();

  constructor(
    readonly params: AutoEncoderParams,
    store: AeParamStore,
  ) {
    this.encoder = new Encoder(store, 'encoder', params);
    this.decoder = new Decoder(store, 'decoder', params);
  }

  /** Image in [−1, 1] → latent z; `noise` samples the posterior instead of taking its mean. */
  encode(x: Value, noise?: Value): Value {
    return this.scale(this.reg.forward(this.encoder.forward(x), noise));
  }

  decode(z: Value): Value {
    return this.decoder.forward(this.unscale(z));
  }

  /** scale · (z − shift): the encoder's latent in the flow model's units. */
  scale(z: Value): Value {
    return F.mul(F.sub(z, this.params.shift_factor), this.params.scale_factor);
  }

  unscale(z: Value): Value {
    return F.add(F.div(z, this.params.scale_factor), this.params.shift_factor);
  }
}
