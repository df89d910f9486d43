// FLUX.1's two text inputs (BFL sampling.py `prepare`): `txt` = T5 v1.1 XXL's last hidden state
// at the model's context length (512 dev, 256 schnell), `y` = CLIP-L's pooled output; both from
// the diffusers folders of the checkpoint (src/model/text-encoders).

import { type ClipTextEncoder, loadClipTextModel, loadT5Encoder, type T5TextEncoder } from '../text-encoders/index.ts';

export interface TextConditioning {
  /** [1, L_txt, context_in_dim] */
  txt: Float32Array;
  /** [1, vec_in_dim] */
  y: Float32Array;
}

export class Flux1TextEncoders {
  private constructor(
    readonly t5: T5TextEncoder,
    readonly clip: ClipTextEncoder,
  ) {}

  static async load(dir: string, o: { t5Tokens: number; threads?: number }): Promise<Flux1TextEncoders> {
    const t5 = await loadT5Encoder(dir, { maxLength: o.t5Tokens, threads: o.threads });
    try {
      return new Flux1TextEncoders(t5, await loadClipTextModel(dir, { threads: o.threads }));
    } catch (err) {
      await t5.release();
      throw err;
    }
  }

  /** T5 tokens per prompt. */
  get txtTokens(): number {
    return this.t5.maxLength;
  }

  get widths(): { txt: number; y: number } {
    return { txt: this.t5.config.d_model, y: this.clip.config.hidden_size };
  }

  async encode(prompt: string): Promise<TextConditioning> {
    const [txt, y] = [await this.t5.encode([prompt]), await this.clip.encode([prompt])];
    return { txt: txt.data, y: y.data };
  }

  async release(): Promise<void> {
    await this.t5.release();
    await this.clip.release();
  }
}
