// Where the FLUX modules get their tensors. Every parameter becomes a graph input named by its
// full BFL checkpoint key, so one model definition serves both uses: an inference session
// freezes the inputs (they become initializers), a training graph feeds them and takes their
// gradients. The store also decides which Linear carries a LoRA branch, so the modules stay
// free of training concerns.

import type { DType } from '../../engine/dtype.ts';
import type { Graph, Value } from '../../engine/graph.ts';

export interface LoraSpec {
  /** Requested rank; capped at min(in, out) per layer, as BFL's wrapper does. */
  rank: number;
  /** Which Linear (BFL module path, e.g. `double_blocks.0.img_attn.qkv`) gets a branch. */
  targets: (path: string) => boolean;
  /** lora_B has a bias (BFL's layout has one; kohya/PEFT usually do not). */
  bias: boolean;
}

/** The graph inputs of one LoRA branch plus the shared, fed strength. */
export interface LoraBranch {
  down: Value;
  up: Value;
  bias?: Value;
  scale: Value;
}

/** Name of the scalar input that scales every LoRA branch (the finetune strength). */
export const LORA_SCALE_INPUT = 'lora_scale';

export class ParamStore {
  /** Base weights by checkpoint key. */
  readonly params = new Map<string, Value>();
  /** LoRA tensors by BFL LoRA key (`<path>.lora_A.weight`, …). */
  readonly loraParams = new Map<string, Value>();
  private scale: Value | undefined;

  constructor(
    readonly graph: Graph,
    readonly dtype: DType,
    readonly lora?: LoraSpec,
  ) {}

  /** Declares a base parameter; a key declared twice is a model bug and throws (Graph.input). */
  param(key: string, shape: readonly number[]): Value {
    const v = this.graph.input(key, shape, this.dtype);
    this.params.set(key, v);
    return v;
  }

  /** The LoRA branch for the Linear at `path`, or undefined when it carries none. */
  loraFor(path: string, inFeatures: number, outFeatures: number): LoraBranch | undefined {
    const spec = this.lora;
    if (!spec?.targets(path)) return undefined;
    const r = Math.min(spec.rank, inFeatures, outFeatures);
    const input = (key: string, shape: number[]) => {
      const v = this.graph.input(key, shape, this.dtype);
      this.loraParams.set(key, v);
      return v;
    };
    this.scale ??= this.graph.input(LORA_SCALE_INPUT, [], this.dtype);
    return {
      down: input(`${path}.lora_A.weight`, [r, inFeatures]),
      up: input(`${path}.lora_B.weight`, [outFeatures, r]),
      bias: spec.bias ? input(`${path}.lora_B.bias`, [outFeatures]) : undefined,
      scale: this.scale,
    };
  }

  /** Shapes of every base parameter, by key: what a checkpoint for this config must hold. */
  shapes(): Map<string, readonly number[]> {
    return new Map([...this.params].map(([k, v]) => [k, v.shape]));
  }

  loraShapes(): Map<string, readonly number[]> {
    return new Map([...this.loraParams].map(([k, v]) => [k, v.shape]));
  }
}
