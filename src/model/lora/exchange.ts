// LoRA files in and out of fluxtune. Export: a finetune's stored LoRA (BFL layout, F32) in the
// layout and dtype another tool loads, its description in `__metadata__`. Import: a LoRA file
// from elsewhere (BFL, kohya/ComfyUI or diffusers/PEFT keys), checked against the served base
// model and what its inference session can apply, stored in our layout.
//
// Which layout each format is, from the loaders' own code:
//
// - `comfyui` is the kohya layout. ComfyUI maps `lora_unet_<model key with . → _>` onto every
//   weight of the model one to one (comfy/lora.py model_lora_keys_unet: for each
//   "diffusion_model.<k>.weight", key_map["lora_unet_" + k.replace(".", "_")]), reads `.alpha`
//   and applies `.diff_b` to the layer's bias (comfy/lora.py load_lora), and its FLUX weights
//   carry BFL's names (comfy/ldm/flux/layers.py), so a fused qkv or linear1 LoRA lands whole.
//   Its diffusers route instead narrows each `transformer.<diffusers name>` part onto a slice of
//   the fused weight (comfy/utils.py flux_to_diffusers) and loses `lora_B.bias` (only lora_A /
//   lora_B are read: comfy/weight_adapter/lora.py LoRAAdapter.load); bare BFL keys are converted
//   only when the file also has `img_in.lora_A.weight` and `single_blocks.0.norm.key_norm.scale`
//   (comfy/lora_convert.py convert_lora: BFL's control LoRAs), which a block-Linear LoRA never
//   has, so ComfyUI ignores our stored file. The kohya layout is also what sd-scripts writes
//   (networks/lora_flux.py LORA_PREFIX_FLUX = "lora_unet") and what diffusers converts itself
//   (loaders/lora_pipeline.py FluxLoraLoaderMixin.lora_state_dict: any `.lora_down.weight` →
//   _convert_kohya_flux_lora_to_diffusers). Hence the API's default format.
// - `kohya`: the same file (sd-scripts' loader ignores `.diff_b`: load_weights is non-strict).
// - `diffusers`: PEFT keys under `transformer.` (loaders/peft.py load_lora_adapter filters on it),
//   fused projections split into diffusers' modules sharing one A, LoraConfig in the metadata.
// - `bfl`: our stored layout, BFL's own (flux/modules/lora.py).
//
// bf16 is the default dtype: FLUX.1's weights are bf16, ComfyUI computes patches in float32
// whatever the file holds (comfy/lora.py calculate_weight, intermediate_dtype), and unlike fp16
// bf16 keeps float32's exponent range, so small LoRA factors do not flush to zero.

import { parseSafetensors, type StDType, toFloat32 } from '../../engine/safetensors.ts';
import { type FinetuneLoraInfo, type ImportedLora, InvalidLoraFile, type LoraDtype, type LoraFormat } from '../backend.ts';
import type { FluxParams } from '../flux/config.ts';
import { type Tensors, writeTensors } from '../tensors.ts';
import { loraFromBfl } from './bfl.ts';
import { detectLoraLayout, downKey, type LoraLayout, loraLayoutTensors, readLoraTensors, writeLora } from './files.ts';
import { fluxLinears, type Lora } from './lora.ts';

export const LORA_FORMATS = ['comfyui', 'kohya', 'diffusers', 'bfl'] as const satisfies readonly LoraFormat[];
export const LORA_DTYPES = ['bf16', 'fp16', 'fp32'] as const satisfies readonly LoraDtype[];

export const FORMAT_LAYOUT: Record<LoraFormat, LoraLayout> = { comfyui: 'kohya', kohya: 'kohya', diffusers: 'peft', bfl: 'bfl' };
const ST_DTYPE: Record<LoraDtype, StDType> = { bf16: 'BF16', fp16: 'F16', fp32: 'F32' };
const PUBLIC_LAYOUT: Record<LoraLayout, ImportedLora['layout']> = { bfl: 'bfl', kohya: 'kohya', peft: 'diffusers' };

/** The base model LoRAs are exchanged for: who it is, its geometry, and what its inference session applies. */
export interface LoraBase {
  name: string;
  /** File name of the base weights (kohya's ss_sd_model_name). */
  weightsFile: string;
  /** sha256 of that file, hex (kohya's ss_new_sd_model_hash). */
  sha256: string;
  /** kohya's ss_base_model_version for the architecture (sd-scripts library/flux_utils.py MODEL_VERSION_FLUX_V1). */
  kohyaVersion: string;
  params: FluxParams;
  /** The LoRAs its inference session can apply: modules on `targets` (described for messages), up to `rank`, with lora_B.bias when `bias`. */
  serves: { rank: number; targets(path: string): boolean; targetsText: string; bias: boolean };
}

/**
 * A safetensors file's tensors as floats. Integer tensors are widened too: kohya's own extractor
 * stores `.alpha` as int64 (networks/flux_extract_lora.py: torch.tensor(rank)).
 */
function decodeTensors(bytes: Uint8Array): { tensors: Tensors; metadata: Record<string, string> } {
  const file = parseSafetensors(bytes);
  const tensors: Tensors = new Map();
  for (const [name, t] of file.tensors) {
    const copy = new Uint8Array(t.bytes);
    let data: Float32Array;
    if (t.dtype === 'I64') data = Float32Array.from(new BigInt64Array(copy.buffer), Number);
    else if (t.dtype === 'I32') data = Float32Array.from(new Int32Array(copy.buffer));
    else if (t.dtype === 'U8') data = Float32Array.from(copy);
    else data = toFloat32(t);
    tensors.set(name, { shape: [...t.shape], data });
  }
  const metadata = typeof file.metadata === 'object' && file.metadata !== null ? file.metadata : {};
  return { tensors, metadata };
}

const maxRank = (lora: Lora) => Math.max(0, ...[...lora.values()].map((m) => m.rank));

/** Every module on a Linear of the base, shape for shape. */
function fitsBase(lora: Lora, base: LoraBase): boolean {
  const linears = fluxLinears(base.params);
  for (const [path, m] of lora) {
    const shape = linears.get(path);
    if (!shape || shape.inFeatures !== m.inFeatures || shape.outFeatures !== m.outFeatures) return false;
  }
  return true;
}

/**
 * `__metadata__` of an exported file: kohya's `ss_*` names where they exist (sd-scripts
 * train_network.py and library/train_util.py), SAI's `modelspec.*` for the title and trigger
 * phrase (library/sai_model_spec.py), ours under `fluxtune.*`. Values are strings, as the format
 * requires. The base model is named only when the LoRA fits it.
 */
export function exportMetadata(lora: Lora, info: FinetuneLoraInfo, layout: LoraLayout, base: LoraBase | undefined): Record<string, string> {
  const rank = String(maxRank(lora));
  const meta: Record<string, string> = {
    format: 'pt',
    'modelspec.title': info.comment,
    'modelspec.trigger_phrase': info.triggerWord,
    'modelspec.date': info.createdAt.slice(0, 10),
    ss_output_name: info.comment,
    ss_training_comment: `${info.comment} (trigger word: ${info.triggerWord})`,
    ss_base_model_version: base?.kohyaVersion ?? 'flux1',
    ss_v2: 'False',
    ss_training_started_at: String(Math.round(Date.parse(info.createdAt) / 1000)),
    'fluxtune.finetune_id': info.finetuneId,
    'fluxtune.trigger_word': info.triggerWord,
    'fluxtune.finetune_type': info.finetuneType,
    'fluxtune.mode': info.mode,
    'fluxtune.lora_rank': rank,
    // Every layout is written with α = r (kohya's .alpha, PEFT's lora_alpha): scale 1, ΔW = up·down.
    'fluxtune.lora_alpha': rank,
    'fluxtune.imported': String(info.imported),
  };
  if (!info.imported) {
    Object.assign(meta, {
      ss_max_train_steps: String(info.iterations),
      ss_learning_rate: String(info.learningRate),
      ss_num_train_images: String(info.imageCount),
      'fluxtune.iterations': String(info.iterations),
      'fluxtune.learning_rate': String(info.learningRate),
      'fluxtune.priority': info.priority,
    });
  }
  if (base) {
    Object.assign(meta, {
      ss_sd_model_name: base.weightsFile,
      ss_new_sd_model_hash: base.sha256,
      'fluxtune.base_model': base.name,
      'fluxtune.base_model_sha256': base.sha256,
    });
  }
  if (layout === 'kohya') {
    // sd-scripts' minimum network metadata (library/train_util.py SS_METADATA_MINIMUM_KEYS).
    Object.assign(meta, { ss_network_module: 'networks.lora_flux', ss_network_dim: rank, ss_network_alpha: rank, ss_network_args: '{}' });
  }
  return meta;
}

/** A finetune's stored LoRA file as `format` in `dtype`, described by `info`. */
export function exportLora(stored: Uint8Array, o: { format: LoraFormat; dtype: LoraDtype; info: FinetuneLoraInfo; base: LoraBase }): Uint8Array {
  let lora: Lora;
  try {
    const { tensors, metadata } = decodeTensors(stored);
    // Our own files are BFL and convert without the base's geometry (diffusers-names.ts widthsOf).
    lora = detectLoraLayout(tensors.keys()) === 'bfl' ? loraFromBfl(tensors).lora : readLoraTensors(tensors, metadata, o.base.params).lora;
  } catch (err) {
    throw new InvalidLoraFile(`the stored LoRA cannot be read: ${(err as Error).message}`);
  }
  const base = fitsBase(lora, o.base) ? o.base : undefined;
  const layout = FORMAT_LAYOUT[o.format];
  const { tensors, metadata } = loraLayoutTensors(lora, layout, base?.params);
  return writeTensors(tensors, ST_DTYPE[o.dtype], { ...exportMetadata(lora, o.info, layout, base), ...metadata });
}

function allFinite(data: ArrayLike<number>): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}

const recorded = (v: string | undefined) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * A LoRA file from elsewhere, in any supported layout, checked against `base`: readable, a known
 * layout, every module on a Linear of the base with its shape, finite, and one the base's
 * inference session applies. Every refusal names the key. Returns the LoRA in our stored layout.
 */
export function importLora(file: Uint8Array, base: LoraBase): ImportedLora {
  let decoded: ReturnType<typeof decodeTensors>;
  try {
    decoded = decodeTensors(file);
  } catch (err) {
    throw new InvalidLoraFile(`the file is not a readable safetensors file (${(err as Error).message})`);
  }
  const { tensors, metadata } = decoded;
  if (!tensors.size) throw new InvalidLoraFile('the file holds no tensors');
  for (const [key, t] of tensors) if (!allFinite(t.data)) throw new InvalidLoraFile(`'${key}' holds NaN or infinite values`);

  let read: ReturnType<typeof readLoraTensors>;
  try {
    read = readLoraTensors(tensors, metadata, base.params);
  } catch (err) {
    throw new InvalidLoraFile(`${(err as Error).message} (this server's base model is ${base.name}: is it a LoRA for another model?)`);
  }
  const { lora, layout, extras } = read;
  const extra = extras.keys().next();
  if (!extra.done) throw new InvalidLoraFile(`'${extra.value}' is not a LoRA factor: only lora_A/lora_B pairs (and their bias) can be applied`);
  if (!lora.size) throw new InvalidLoraFile('the file holds no LoRA modules');
  for (const [path, m] of lora) {
    const key = downKey(layout, path, m.outFeatures, base.params);
    if (!base.serves.targets(path)) throw new InvalidLoraFile(`'${key}': ${base.name} applies LoRAs to ${base.serves.targetsText} only`);
    if (m.rank < 1) throw new InvalidLoraFile(`'${key}' has rank 0`);
    if (m.rank > base.serves.rank) throw new InvalidLoraFile(`'${key}' has rank ${m.rank}; ${base.name} applies LoRAs up to rank ${base.serves.rank}`);
    if (m.bias && !base.serves.bias) throw new InvalidLoraFile(`'${key}' has a bias, which ${base.name} does not apply`);
  }
  const bytes = writeLora(lora, 'bfl', undefined, {
    metadata: { 'fluxtune.base_model': base.name, 'fluxtune.imported_layout': PUBLIC_LAYOUT[layout] },
  });
  return {
    bytes,
    layout: PUBLIC_LAYOUT[layout],
    rank: maxRank(lora),
    modules: lora.size,
    triggerWord: recorded(metadata['fluxtune.trigger_word']) ?? recorded(metadata['modelspec.trigger_phrase']),
    title: recorded(metadata['modelspec.title']) ?? recorded(metadata.ss_output_name),
  };
}
