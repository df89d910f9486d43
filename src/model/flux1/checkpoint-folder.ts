// FLUXTUNE_MODEL=<dir>: which FLUX.1 files the folder holds, in which layout. A Hugging Face
// FLUX.1 repository holds both: BFL's single files at the top (`flux1-dev.safetensors`,
// `ae.safetensors`) and the diffusers components beside them (`transformer/`, `vae/`,
// `text_encoder/`, `text_encoder_2/`, `tokenizer/`, `tokenizer_2/`). BFL's files win where both
// are present (one file each, no renaming); the text encoders always come from the diffusers
// folders, since BFL ships none. The transformer's shapes say which model it is (configs.ts).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type AutoEncoderParams, FLUX1_AE, parseAeParams } from '../ae/config.ts';
import type { FluxParams } from '../flux/config.ts';
import { type Flux1Variant, paramsFromShapes, variantFromShapes } from './configs.ts';
import { DiffusersTransformerSource } from './diffusers-transformer.ts';
import { aeParamsFromDiffusers, DiffusersVaeSource } from './diffusers-vae.ts';
import { SafetensorsSource, type WeightSource } from './weight-source.ts';

export interface Flux1Folder {
  dir: string;
  layout: 'bfl' | 'diffusers';
  variant: Flux1Variant;
  transformer: WeightSource;
  /** The transformer's file (a diffusers sharded checkpoint: its index), the LoRA base's identity. */
  transformerFile: string;
  params: FluxParams;
  ae: WeightSource;
  aeParams: AutoEncoderParams;
  /** The folder with text_encoder/ (CLIP), text_encoder_2/ (T5) and their tokenizers. */
  textEncoders: string;
  close(): void;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** BFL's AutoEncoderParams from its checkpoint's shapes (FLUX1_AE's scale and shift: BFL hard-codes them). */
export function aeParamsFromShapes(shapes: ReadonlyMap<string, readonly number[]>): AutoEncoderParams {
  const need = (k: string) => {
    const s = shapes.get(k);
    if (!s) throw new Error(`not a FLUX.1 autoencoder: no '${k}'`);
    return s;
  };
  const ch = need('encoder.conv_in.weight')[0]!;
  const mult: number[] = [];
  for (let i = 0; shapes.has(`encoder.down.${i}.block.0.conv1.weight`); i++) mult.push(need(`encoder.down.${i}.block.0.conv1.weight`)[0]! / ch);
  let blocks = 0;
  while (shapes.has(`encoder.down.0.block.${blocks}.conv1.weight`)) blocks++;
  return parseAeParams({
    ...FLUX1_AE,
    in_channels: need('encoder.conv_in.weight')[1],
    ch,
    out_ch: need('decoder.conv_out.weight')[0],
    ch_mult: mult,
    num_res_blocks: blocks,
    z_channels: need('decoder.conv_in.weight')[1],
  });
}

function bflTransformerFile(dir: string): string | undefined {
  const candidates = readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors') && f !== 'ae.safetensors')
    .sort((a, b) => Number(b.startsWith('flux1')) - Number(a.startsWith('flux1')) || a.localeCompare(b));
  return candidates.find((f) => {
    const s = SafetensorsSource.open(join(dir, f));
    const yes = s.shapes.has('img_in.weight');
    s.close();
    return yes;
  });
}

export function openFlux1Folder(dir: string): Flux1Folder {
  if (!existsSync(dir)) throw new Error(`FLUXTUNE_MODEL: ${dir} does not exist`);
  const opened: WeightSource[] = [];
  try {
    let layout: Flux1Folder['layout'];
    let transformer: WeightSource;
    let params: FluxParams;
    let hint: string;
    let transformerFile: string;
    const bflFile = bflTransformerFile(dir);
    if (bflFile) {
      layout = 'bfl';
      transformerFile = join(dir, bflFile);
      transformer = SafetensorsSource.open(transformerFile);
      params = paramsFromShapes(transformer.shapes);
      hint = bflFile;
    } else if (isDir(join(dir, 'transformer'))) {
      layout = 'diffusers';
      const inner = SafetensorsSource.openComponent(join(dir, 'transformer'));
      transformerFile = inner.path;
      opened.push(inner);
      const d = new DiffusersTransformerSource(inner, DiffusersTransformerSource.configOf(join(dir, 'transformer')));
      transformer = d;
      params = d.params;
      hint = `${dir} ${JSON.stringify(DiffusersTransformerSource.configOf(join(dir, 'transformer'))._name_or_path ?? '')}`;
    } else {
      throw new Error(`FLUXTUNE_MODEL: ${dir} holds neither a FLUX.1 transformer file (flux1-*.safetensors, BFL's layout) nor a diffusers transformer/ folder`);
    }
    opened.push(transformer);
    let ae: WeightSource;
    let aeParams: AutoEncoderParams;
    if (existsSync(join(dir, 'ae.safetensors'))) {
      ae = SafetensorsSource.open(join(dir, 'ae.safetensors'));
      aeParams = aeParamsFromShapes(ae.shapes);
    } else if (isDir(join(dir, 'vae'))) {
      aeParams = aeParamsFromDiffusers(DiffusersTransformerSource.configOf(join(dir, 'vae')));
      ae = new DiffusersVaeSource(SafetensorsSource.openComponent(join(dir, 'vae')), aeParams);
    } else {
      throw new Error(`FLUXTUNE_MODEL: ${dir} has no autoencoder (ae.safetensors, or a diffusers vae/ folder)`);
    }
    opened.push(ae);
    for (const sub of ['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2']) {
      if (!isDir(join(dir, sub)))
        throw new Error(
          `FLUXTUNE_MODEL: ${dir} has no ${sub}/ (FLUX.1's text encoders come as diffusers folders: text_encoder/ = CLIP-L, text_encoder_2/ = T5 v1.1 XXL, with tokenizer/ and tokenizer_2/)`,
        );
    }
    const variant = variantFromShapes(transformer.shapes, hint);
    return { dir, layout, variant, transformer, transformerFile, params, ae, aeParams, textEncoders: dir, close: () => closeAll(opened) };
  } catch (err) {
    closeAll(opened);
    throw err;
  }
}

function closeAll(sources: WeightSource[]): void {
  for (const s of sources) s.close();
}
