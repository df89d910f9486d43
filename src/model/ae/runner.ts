// Encode and decode sessions for one image size with the checkpoint frozen in (ORT constant-
// folds and prepacks the convolution weights). Inputs and outputs are flat NCHW arrays.

import type { DType } from '../../engine/dtype.ts';
import { Session } from '../../engine/session.ts';
import { asDType, type FloatArray, type Tensors } from '../tensors.ts';
import { AE_IO, type AeGraph, type AeShape, buildAeDecodeGraph, buildAeEncodeGraph } from './build.ts';
import type { AutoEncoderParams } from './config.ts';
import { frozenAeWeights, unusedAeWeights } from './weights.ts';

export interface AeRunnerOptions {
  params: AutoEncoderParams;
  weights: Tensors;
  shape: AeShape;
  dtype?: DType;
  threads?: number;
}

async function open(g: AeGraph, weights: Tensors, threads?: number): Promise<Session> {
  return Session.create({ outputs: g.outputs, frozen: frozenAeWeights(g.store.params, weights), threads });
}

export class AeRunner {
  private constructor(
    readonly encodeGraph: AeGraph,
    readonly decodeGraph: AeGraph,
    private readonly encoder: Session,
    private readonly decoder: Session,
  ) {}

  static async create(o: AeRunnerOptions): Promise<AeRunner> {
    const enc = buildAeEncodeGraph(o.params, o.shape, { dtype: o.dtype });
    const dec = buildAeDecodeGraph(o.params, o.shape, { dtype: o.dtype });
    const extra = unusedAeWeights(enc.store.params, o.weights);
    if (extra.length) throw new Error(`autoencoder weights: ${extra.length} keys this config has no parameter for (${extra.slice(0, 3).join(', ')}, …)`);
    return new AeRunner(enc, dec, await open(enc, o.weights, o.threads), await open(dec, o.weights, o.threads));
  }

  /** image [B, C, H, W] in [−1, 1] → the scaled latent z and the encoder's moments. */
  async encode(image: ArrayLike<number>): Promise<{ z: FloatArray; moments: FloatArray }> {
    const res = await this.encoder.run({ [AE_IO.image]: asDType(image, this.encodeGraph.dtype) });
    return { z: res[AE_IO.z] as FloatArray, moments: res[AE_IO.moments] as FloatArray };
  }

  /** Scaled latent z [B, Z, H/f, W/f] → image [B, out_ch, H, W]. */
  async decode(z: ArrayLike<number>): Promise<FloatArray> {
    const res = await this.decoder.run({ [AE_IO.z]: asDType(z, this.decodeGraph.dtype) });
    return res[AE_IO.image] as FloatArray;
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}
