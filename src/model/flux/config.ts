// FLUX hyper-parameters under BFL's own `FluxParams` names, so a config.json next to a BFL
// checkpoint (or our flux-mini one) is read as is. Validation mirrors the reference
// constructor's rules, which otherwise surface as confusing shape errors deep in the graph.

export interface FluxParams {
  in_channels: number;
  out_channels: number;
  vec_in_dim: number;
  context_in_dim: number;
  hidden_size: number;
  mlp_ratio: number;
  num_heads: number;
  depth: number;
  depth_single_blocks: number;
  axes_dim: number[];
  theta: number;
  qkv_bias: boolean;
  guidance_embed: boolean;
}

/** Sizes derived from the params, named as in flux-architecture.md. */
export interface FluxDims {
  /** hidden size H */
  hidden: number;
  heads: number;
  /** head dim D = H / heads */
  headDim: number;
  /** MLP width M = int(H · mlp_ratio) */
  mlpHidden: number;
}

export function fluxDims(p: FluxParams): FluxDims {
  return {
    hidden: p.hidden_size,
    heads: p.num_heads,
    headDim: p.hidden_size / p.num_heads,
    mlpHidden: Math.trunc(p.hidden_size * p.mlp_ratio),
  };
}

const NUMBER_FIELDS = [
  'in_channels',
  'out_channels',
  'vec_in_dim',
  'context_in_dim',
  'hidden_size',
  'mlp_ratio',
  'num_heads',
  'depth',
  'depth_single_blocks',
  'theta',
] as const;

/** Checks a parsed config.json and returns it typed; throws naming the first bad field. */
export function parseFluxParams(json: unknown): FluxParams {
  if (typeof json !== 'object' || json === null) throw new Error('FluxParams: expected an object');
  const o = json as Record<string, unknown>;
  for (const k of NUMBER_FIELDS) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new Error(`FluxParams: '${k}' must be a number`);
  }
  for (const k of ['qkv_bias', 'guidance_embed'] as const) {
    if (typeof o[k] !== 'boolean') throw new Error(`FluxParams: '${k}' must be a boolean`);
  }
  if (!Array.isArray(o.axes_dim) || !o.axes_dim.every((d) => Number.isInteger(d))) {
    throw new Error("FluxParams: 'axes_dim' must be an array of integers");
  }
  const p = o as unknown as FluxParams;
  validateFluxParams(p);
  return p;
}

export function validateFluxParams(p: FluxParams): void {
  if (p.hidden_size % p.num_heads !== 0) {
    throw new Error(`FluxParams: hidden_size ${p.hidden_size} is not divisible by num_heads ${p.num_heads}`);
  }
  const D = p.hidden_size / p.num_heads;
  const sum = p.axes_dim.reduce((a, b) => a + b, 0);
  if (sum !== D) throw new Error(`FluxParams: sum(axes_dim) = ${sum} must equal the head dim ${D}`);
  if (p.axes_dim.some((d) => d % 2 !== 0)) throw new Error('FluxParams: every axes_dim entry must be even (RoPE pairs)');
}
