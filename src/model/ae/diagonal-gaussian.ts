// DiagonalGaussian: the encoder's moments split on the channel axis into mean ‖ logvar. FLUX's
// pipelines encode with the posterior mean (BFL `AutoEncoder(sample_z=False)`); a sample needs
// standard-normal `noise` fed by the caller (mean + exp(logvar / 2) · noise), which keeps the
// graph deterministic and the noise seedable.

import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';

export class DiagonalGaussian {
  /** moments [B, 2·Z, h, w] → [mean, logvar], each [B, Z, h, w]. */
  split(moments: Value): [Value, Value] {
    const z = moments.shape[1]! / 2;
    return F.split(moments, [z, z], 1) as [Value, Value];
  }

  forward(moments: Value, noise?: Value): Value {
    const [mean, logvar] = this.split(moments);
    return noise ? F.add(mean, F.mul(F.exp(F.mul(logvar, 0.5)), noise)) : mean;
  }
}
