// The two text encoders' hyper-parameters under Hugging Face's config.json field names
// (T5Config, CLIPTextConfig), so the `config.json` of a diffusers FLUX.1 folder's `text_encoder/`
// and `text_encoder_2/` (or a vector set's) is read as is. Only the fields the encoders use are
// kept; the rest of a real config (dropout rates, initializer factors, …) changes nothing at inference.

export interface T5Config {
  vocab_size: number;
  d_model: number;
  d_kv: number;
  num_heads: number;
  d_ff: number;
  num_layers: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  layer_norm_epsilon: number;
  /** ACT2FN key: 'gelu_new' for T5 v1.1, 'relu' for the original T5. */
  dense_act_fn: string;
  /** v1.1's gated FFN (wi_0, wi_1) instead of one wi. */
  is_gated_act: boolean;
}

export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
  hidden_act: string;
  bos_token_id: number;
  /** 2 selects HF's legacy pooling rule (argmax of the ids); anything else the first position of this id. */
  eos_token_id: number;
  pad_token_id: number;
}

/** google/t5-v1_1-xxl's encoder as FLUX.1's `text_encoder_2/config.json` has it. */
export const T5_V1_1_XXL: T5Config = {
  vocab_size: 32128,
  d_model: 4096,
  d_kv: 64,
  num_heads: 64,
  d_ff: 10240,
  num_layers: 24,
  relative_attention_num_buckets: 32,
  relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6,
  dense_act_fn: 'gelu_new',
  is_gated_act: true,
};

/** openai/clip-vit-large-patch14's text tower as FLUX.1's `text_encoder/config.json` has it (eos 2: the legacy rule). */
export const CLIP_L_TEXT: ClipTextConfig = {
  vocab_size: 49408,
  hidden_size: 768,
  intermediate_size: 3072,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  max_position_embeddings: 77,
  layer_norm_eps: 1e-5,
  hidden_act: 'quick_gelu',
  bos_token_id: 0,
  eos_token_id: 2,
  pad_token_id: 1,
};

const T5_INT = [
  'vocab_size',
  'd_model',
  'd_kv',
  'num_heads',
  'd_ff',
  'num_layers',
  'relative_attention_num_buckets',
  'relative_attention_max_distance',
] as const;
const CLIP_INT = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_attention_heads', 'num_hidden_layers', 'max_position_embeddings'] as const;

function positiveInt(o: Record<string, unknown>, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${what} config: '${k}' must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Record<string, unknown>, k: string, what: string, fallback?: number): number {
  const v = o[k] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} config: '${k}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * T5Config from a config.json object. Older configs name the FFN by `feed_forward_proj`
 * ('gated-gelu' → gated gelu_new, 'relu' → relu), which is how T5Config derives the two fields.
 */
export function parseT5Config(raw: unknown): T5Config {
  const o = (raw ?? {}) as Record<string, unknown>;
  const ints = Object.fromEntries(T5_INT.map((k) => [k, positiveInt(o, k, 'T5')])) as Record<(typeof T5_INT)[number], number>;
  const proj = typeof o.feed_forward_proj === 'string' ? o.feed_forward_proj : 'relu';
  const gatedFromProj = proj.startsWith('gated-');
  const actFromProj = gatedFromProj ? proj.slice('gated-'.length) : proj;
  // T5Config.__init__: "gated-gelu" means gelu_new (the tanh approximation), for backwards compatibility.
  const act = typeof o.dense_act_fn === 'string' ? o.dense_act_fn : actFromProj === 'gelu' ? 'gelu_new' : actFromProj;
  const cfg: T5Config = {
    ...ints,
    layer_norm_epsilon: num(o, 'layer_norm_epsilon', 'T5', 1e-6),
    dense_act_fn: act,
    is_gated_act: typeof o.is_gated_act === 'boolean' ? o.is_gated_act : gatedFromProj,
  };
  return cfg;
}

export function parseClipTextConfig(raw: unknown): ClipTextConfig {
  const outer = (raw ?? {}) as Record<string, unknown>;
  // A full CLIPConfig nests the text tower under text_config.
  const o = (typeof outer.text_config === 'object' && outer.text_config ? outer.text_config : outer) as Record<string, unknown>;
  const ints = Object.fromEntries(CLIP_INT.map((k) => [k, positiveInt(o, k, 'CLIP')])) as Record<(typeof CLIP_INT)[number], number>;
  if (ints.hidden_size % ints.num_attention_heads)
    throw new Error(`CLIP config: hidden_size ${ints.hidden_size} does not split into ${ints.num_attention_heads} heads`);
  return {
    ...ints,
    layer_norm_eps: num(o, 'layer_norm_eps', 'CLIP', 1e-5),
    hidden_act: typeof o.hidden_act === 'string' ? o.hidden_act : 'quick_gelu',
    bos_token_id: num(o, 'bos_token_id', 'CLIP', 49406),
    eos_token_id: num(o, 'eos_token_id', 'CLIP', 49407),
    pad_token_id: num(o, 'pad_token_id', 'CLIP', 1),
  };
}
