// LoRA files other tools load, proven against re-implementations of those tools' own loading code
// (test/model/lora-loaders: ComfyUI, diffusers + PEFT, kohya's sd-scripts). For the real FLUX.1-dev
// geometry (keys and shapes of its released checkpoint) a rank-4 LoRA on every Linear is exported in
// each format: every key lands on a module of the right shape, and for a probe vector each weight
// changes by exactly the LoRA's ΔW (within the dtype), or the test says which loader drops what and
// why. Then flux-mini's own files: every format × dtype reads back through our reader, and the
// import check refuses what flux-mini cannot apply, naming the key.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FinetuneLoraInfo } from '../../src/model/backend.ts';
import { parseFluxParams } from '../../src/model/flux/config.ts';
import { fluxMiniLoraBase } from '../../src/model/flux-mini/lora-base.ts';
import { loraToBfl } from '../../src/model/lora/bfl.ts';
import { exportLora, importLora, LORA_DTYPES, LORA_FORMATS, type LoraBase } from '../../src/model/lora/exchange.ts';
import { readLora, writeLora } from '../../src/model/lora/files.ts';
import { loraToKohya } from '../../src/model/lora/kohya.ts';
import { blockLinears, fluxLinears, type Lora } from '../../src/model/lora/lora.ts';
import { loraToPeft } from '../../src/model/lora/peft.ts';
import { writeTensors } from '../../src/model/tensors.ts';
import { type Checkpoint, flux1Dev, fluxMini, type LoraFile, readLoraFile } from './lora-loaders/checkpoint.ts';
import { comfyLoad } from './lora-loaders/comfyui.ts';
import { diffusersLoad } from './lora-loaders/diffusers.ts';
import { kohyaLoad } from './lora-loaders/kohya.ts';
import { type LoadResult, landingErrors } from './lora-loaders/landed.ts';

const TOL = { bf16: 1e-2, fp16: 3e-3, fp32: 1e-6 } as const;

const INFO: FinetuneLoraInfo = {
  finetuneId: '00000000-0000-4000-8000-000000000001',
  comment: 'my cat',
  triggerWord: 'mycstm',
  mode: 'character',
  finetuneType: 'lora',
  iterations: 300,
  learningRate: 1e-4,
  priority: 'quality',
  imageCount: 7,
  createdAt: '2025-05-01T12:00:00.000Z',
  imported: false,
};

/** A LoRA of `rank` on the checkpoint's Linears (its 2-D weights) picked by `targets`: small, non-zero, varied values. */
function loraFor(ckpt: Checkpoint, rank: number, targets: (path: string) => boolean, withBias = false): Lora {
  const lora: Lora = new Map();
  let s = 12345;
  const fill = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      a[i] = (s / 2 ** 32 - 0.5) * scale;
    }
    return a;
  };
  for (const [key, shape] of ckpt.tensors) {
    if (!key.endsWith('.weight') || shape.length !== 2) continue;
    const path = key.slice(0, -'.weight'.length);
    if (!targets(path)) continue;
    const [outF, inF] = shape as [number, number];
    lora.set(path, {
      rank,
      inFeatures: inF,
      outFeatures: outF,
      down: fill(rank * inF, 0.04),
      up: fill(outF * rank, 0.02),
      bias: withBias ? fill(outF, 0.01) : undefined,
    });
  }
  return lora;
}

function baseOf(ckpt: Checkpoint, name: string): LoraBase {
  return {
    name,
    weightsFile: `${name}.safetensors`,
    sha256: 'f'.repeat(64),
    kohyaVersion: 'flux1',
    params: parseFluxParams(ckpt.params),
    serves: { rank: 128, targets: () => true, targetsText: 'every Linear', bias: true },
  };
}

const keysOf = (file: LoraFile) => [...file.tensors.keys()];
const only = (lora: Lora, keep: (path: string) => boolean): Lora => new Map([...lora].filter(([p]) => keep(p)));

function assertLands(lora: Lora, result: LoadResult, tol: number, what: string): void {
  assert.deepEqual(result.dropped, [], `${what}: keys the loader does not apply`);
  assert.deepEqual(landingErrors(lora, result, tol), [], what);
}

describe('FLUX.1-dev (the released checkpoint’s keys and shapes): each format in the loaders that read it', () => {
  const ckpt = flux1Dev();
  const base = baseOf(ckpt, 'flux1-dev');
  // Every Linear, rank 4 (~20 M factors): blocks are what flux-mini trains and kohya supports, the rest tests the loaders' edges.
  const lora = loraFor(ckpt, 4, () => true);
  const blocks = only(lora, blockLinears);
  const globals = [...lora.keys()].filter((p) => !blockLinears(p));
  const stored = writeLora(lora);
  const exported = (format: (typeof LORA_FORMATS)[number], dtype: (typeof LORA_DTYPES)[number] = 'bf16') =>
    readLoraFile(exportLora(stored, { format, dtype, info: INFO, base }));

  it('our model code declares exactly the checkpoint’s Linears', () => {
    const ours = fluxLinears(base.params);
    assert.deepEqual(
      [...ours].map(([p, s]) => [p, [s.outFeatures, s.inFeatures]]).sort(),
      [...lora].map(([p, m]) => [p, [m.outFeatures, m.inFeatures]]).sort(),
    );
    assert.equal(globals.length, 10);
  });

  it('comfyui (= kohya layout, bf16): ComfyUI lands every module; kohya and diffusers every block module', () => {
    const file = exported('comfyui');
    assert.ok(keysOf(file).every((k) => k.startsWith('lora_unet_')));
    assert.ok([...file.tensors.values()].every((t) => t.dtype === 'BF16'));
    assertLands(lora, comfyLoad(file, ckpt), TOL.bf16, 'ComfyUI');

    // diffusers converts kohya keys itself, but its converter names the embedders and the final
    // layer without the `transformer.` prefix that load_lora_adapter then filters on: those drop.
    const viaDiffusers = diffusersLoad(file, ckpt);
    const DIFFUSERS_NAME: Record<string, string> = {
      img_in: 'x_embedder',
      txt_in: 'context_embedder',
      'time_in.in_layer': 'time_text_embed.timestep_embedder.linear_1',
      'time_in.out_layer': 'time_text_embed.timestep_embedder.linear_2',
      'vector_in.in_layer': 'time_text_embed.text_embedder.linear_1',
      'vector_in.out_layer': 'time_text_embed.text_embedder.linear_2',
      'guidance_in.in_layer': 'time_text_embed.guidance_embedder.linear_1',
      'guidance_in.out_layer': 'time_text_embed.guidance_embedder.linear_2',
      'final_layer.linear': 'proj_out',
      'final_layer.adaLN_modulation.1': 'norm_out.linear',
    };
    assert.deepEqual(viaDiffusers.dropped.sort(), globals.flatMap((g) => [`${DIFFUSERS_NAME[g]}.lora_A.weight`, `${DIFFUSERS_NAME[g]}.lora_B.weight`]).sort());
    assert.deepEqual(landingErrors(blocks, { landed: viaDiffusers.landed, dropped: [] }, TOL.bf16), [], 'diffusers, block modules');

    // sd-scripts creates modules only inside the double/single blocks.
    const viaKohya = kohyaLoad(file, ckpt);
    assert.deepEqual(
      viaKohya.dropped.sort(),
      keysOf(file)
        .filter((k) => globals.some((g) => k.startsWith(`lora_unet_${g.replace(/\./g, '_')}.`)))
        .sort(),
    );
    assert.deepEqual(landingErrors(blocks, { landed: viaKohya.landed, dropped: [] }, TOL.bf16), [], 'sd-scripts, block modules');

    const kohya = exported('kohya');
    assert.deepEqual(keysOf(kohya), keysOf(file), 'kohya is the same file');
  });

  it('a block-Linear LoRA (what fluxtune trains) in comfyui/kohya layout lands whole in all three', () => {
    const file = readLoraFile(exportLora(writeLora(blocks), { format: 'kohya', dtype: 'bf16', info: INFO, base }));
    assertLands(blocks, comfyLoad(file, ckpt), TOL.bf16, 'ComfyUI');
    assertLands(blocks, diffusersLoad(file, ckpt), TOL.bf16, 'diffusers');
    assertLands(blocks, kohyaLoad(file, ckpt), TOL.bf16, 'sd-scripts');
  });

  it('diffusers (fp16): diffusers + PEFT land every module; ComfyUI too, through its transformer.* map', () => {
    const file = exported('diffusers', 'fp16');
    assert.ok(keysOf(file).every((k) => k.startsWith('transformer.')));
    assertLands(lora, diffusersLoad(file, ckpt), TOL.fp16, 'diffusers');
    assertLands(lora, comfyLoad(file, ckpt), TOL.fp16, 'ComfyUI');
    // The adapter config is read under diffusers' "transformer." prefix; without it LoraConfig gets no target_modules.
    const meta = JSON.parse(file.metadata.lora_adapter_metadata!) as Record<string, unknown>;
    assert.equal(meta['transformer.r'], 4);
    assert.equal(meta['transformer.lora_alpha'], 4);
    const unprefixed = { ...file, metadata: { lora_adapter_metadata: JSON.stringify({ r: 4, lora_alpha: 4, target_modules: ['x_embedder'] }) } };
    assert.throws(() => diffusersLoad(unprefixed, ckpt), /target_modules/);
  });

  it('bfl (our stored layout): neither ComfyUI nor diffusers applies a single key — why the download converts', () => {
    const file = exported('bfl', 'fp32');
    const comfy = comfyLoad(file, ckpt);
    assert.equal(comfy.landed.length, 0);
    assert.deepEqual(comfy.dropped.sort(), keysOf(file).sort());
    const diff = diffusersLoad(file, ckpt);
    assert.equal(diff.landed.length, 0);
    assert.deepEqual(diff.dropped.sort(), keysOf(file).sort());
  });

  it('a LoRA bias: ComfyUI applies kohya’s diff_b and drops PEFT’s lora_B.bias; diffusers applies lora_B.bias and filters diff_b', () => {
    const small = loraFor(ckpt, 2, (p) => p.startsWith('double_blocks.0.') || p === 'single_blocks.3.linear1' || p === 'final_layer.adaLN_modulation.1', true);
    const k = readLoraFile(exportLora(writeLora(small), { format: 'kohya', dtype: 'fp32', info: INFO, base }));
    assertLands(small, comfyLoad(k, ckpt), TOL.fp32, 'ComfyUI, diff_b');
    assert.ok(diffusersLoad(k, ckpt).dropped.filter((x) => x.endsWith('.diff_b')).length > 0);
    const d = readLoraFile(exportLora(writeLora(small), { format: 'diffusers', dtype: 'fp32', info: INFO, base }));
    assertLands(small, diffusersLoad(d, ckpt), TOL.fp32, 'diffusers, lora_bias');
    const comfyOnPeft = comfyLoad(d, ckpt);
    assert.ok(comfyOnPeft.dropped.length > 0 && comfyOnPeft.dropped.every((x) => x.endsWith('.lora_B.bias')));
  });

  it('metadata: kohya’s ss_* names, the base model and its hash, trigger word, rank, alpha', () => {
    const small = writeLora(loraFor(ckpt, 4, (p) => p.startsWith('double_blocks.3.')));
    const { metadata } = readLoraFile(exportLora(small, { format: 'kohya', dtype: 'bf16', info: INFO, base }));
    for (const [k, v] of Object.entries({
      ss_network_module: 'networks.lora_flux',
      ss_network_dim: '4',
      ss_network_alpha: '4',
      ss_base_model_version: 'flux1',
      ss_output_name: 'my cat',
      ss_max_train_steps: '300',
      ss_learning_rate: '0.0001',
      ss_num_train_images: '7',
      ss_sd_model_name: 'flux1-dev.safetensors',
      ss_new_sd_model_hash: 'f'.repeat(64),
      'modelspec.trigger_phrase': 'mycstm',
      'fluxtune.base_model': 'flux1-dev',
      'fluxtune.lora_alpha': '4',
    })) {
      assert.equal(metadata[k], v, k);
    }
    assert.match(metadata.ss_training_comment!, /mycstm/);
    const peft = readLoraFile(exportLora(small, { format: 'diffusers', dtype: 'bf16', info: INFO, base }));
    assert.equal(peft.metadata.ss_network_module, undefined, 'no kohya network keys on a PEFT file');
    assert.equal(peft.metadata.ss_new_sd_model_hash, 'f'.repeat(64));
  });
});

describe("flux-mini's own files", () => {
  const ckpt = fluxMini();
  const params = parseFluxParams(ckpt.params);

  it('every format × dtype reads back through readLora: the same factors within the dtype', async () => {
    const base = await fluxMiniLoraBase();
    const lora = loraFor(ckpt, 8, blockLinears);
    const stored = writeLora(lora);
    for (const format of LORA_FORMATS) {
      for (const dtype of LORA_DTYPES) {
        const bytes = exportLora(stored, { format, dtype, info: INFO, base });
        const back = readLora(bytes, params);
        assert.equal(back.size, lora.size, `${format}/${dtype}`);
        for (const [path, m] of lora) {
          const n = back.get(path)!;
          assert.equal(n.rank, m.rank, `${format}/${dtype} ${path} rank`);
          for (const [a, b] of [
            [n.down, m.down],
            [n.up, m.up],
          ] as const) {
            let err = 0;
            let ref = 0;
            for (let i = 0; i < a.length; i++) {
              err += (a[i]! - b[i]!) ** 2;
              ref += b[i]! ** 2;
            }
            assert.ok(Math.sqrt(err / ref) <= TOL[dtype] / 2, `${format}/${dtype} ${path}: ${Math.sqrt(err / ref)}`);
          }
        }
      }
    }
  });

  it('ComfyUI and sd-scripts load flux-mini’s exports whole; diffusers’ kohya converter only knows FLUX.1’s widths', async () => {
    const base = await fluxMiniLoraBase();
    const lora = loraFor(ckpt, 4, blockLinears, true);
    const stored = writeLora(lora);
    const kohya = readLoraFile(exportLora(stored, { format: 'comfyui', dtype: 'fp32', info: INFO, base }));
    assertLands(lora, comfyLoad(kohya, ckpt), TOL.fp32, 'ComfyUI');
    const noBias: Lora = new Map([...lora].map(([p, m]) => [p, { ...m, bias: undefined }]));
    assert.deepEqual(landingErrors(noBias, kohyaLoad(kohya, ckpt), TOL.fp32), [], 'sd-scripts');
    assert.throws(() => diffusersLoad(kohya, ckpt), /sum\(dims\)/);
    const peft = readLoraFile(exportLora(stored, { format: 'diffusers', dtype: 'fp32', info: INFO, base }));
    assertLands(lora, diffusersLoad(peft, ckpt), TOL.fp32, 'diffusers (PEFT layout)');
    // The metadata names flux-mini and the sha256 of its weights file.
    assert.equal(kohya.metadata['fluxtune.base_model'], 'flux-mini');
    assert.match(kohya.metadata.ss_new_sd_model_hash!, /^[0-9a-f]{64}$/);
    assert.equal(kohya.metadata.ss_new_sd_model_hash, base.sha256);
  });

  it('the diffusers split taken from each module’s shape is the one the config gives', () => {
    const lora = loraFor(ckpt, 2, () => true, true);
    const a = loraToPeft(lora, params).tensors;
    const b = loraToPeft(lora).tensors;
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, t] of a) assert.deepEqual(b.get(k), t, k);
  });
});

describe('import: what flux-mini cannot apply is refused, naming the key', () => {
  const mini = fluxMini();
  const base = () => fluxMiniLoraBase();
  const dev = flux1Dev();
  const one = (ckpt: Checkpoint, paths: string[], rank = 4) => loraFor(ckpt, rank, (p) => paths.includes(p));
  const refuses = async (bytes: Uint8Array, message: RegExp) => {
    const b = await base();
    assert.throws(
      () => importLora(bytes, b),
      (err: Error) => err.name === 'InvalidLoraFile' && message.test(err.message),
    );
  };

  it('accepts each of its own formats, and reports layout, rank and what the file records', async () => {
    const b = await base();
    const lora = loraFor(mini, 8, blockLinears);
    for (const format of LORA_FORMATS) {
      const r = importLora(exportLora(writeLora(lora), { format, dtype: 'bf16', info: INFO, base: b }), b);
      assert.deepEqual([r.layout, r.rank, r.modules, r.triggerWord, r.title], [format === 'comfyui' ? 'kohya' : format, 8, lora.size, 'mycstm', 'my cat']);
      assert.equal(readLora(r.bytes, b.params).size, lora.size);
    }
  });

  it('kohya’s int64 alpha (as sd-scripts’ extractor writes it) is read', async () => {
    const b = await base();
    const lora = one(mini, ['double_blocks.0.img_attn.qkv']);
    const tensors = loraToKohya(lora);
    tensors.delete('lora_unet_double_blocks_0_img_attn_qkv.alpha');
    const file = writeTensors(tensors, 'F32');
    // Append an I64 alpha by hand: the header gains an entry, the data 8 bytes.
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
    const end = file.length - 8 - n;
    header['lora_unet_double_blocks_0_img_attn_qkv.alpha'] = { dtype: 'I64', shape: [], data_offsets: [end, end + 8] } as never;
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + end + 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(file.subarray(8 + n), 8 + json.length);
    new DataView(out.buffer).setBigInt64(8 + json.length + end, 2n, true);
    const r = importLora(out, b);
    const m = readLora(r.bytes, b.params).get('double_blocks.0.img_attn.qkv')!;
    assert.ok(Math.abs(m.up[0]! - lora.get('double_blocks.0.img_attn.qkv')!.up[0]! / 2) < 1e-9, 'α = 2 at rank 4 halves up');
  });

  it('not a safetensors file, no tensors, an unknown layout', async () => {
    await refuses(new Uint8Array([1, 2, 3]), /not a readable safetensors file/);
    await refuses(writeTensors(new Map(), 'F32'), /no tensors/);
    await refuses(
      writeTensors(new Map([['model.layers.0.weight', { shape: [2, 2], data: new Float32Array(4) }]]), 'F32'),
      /unrecognised LoRA layout.*model\.layers\.0\.weight/,
    );
  });

  it('a FLUX.1-dev LoRA: the key and both shapes', async () => {
    await refuses(
      writeLora(one(dev, ['double_blocks.0.img_attn.qkv']), 'kohya'),
      /'lora_unet_double_blocks_0_img_attn_qkv\.lora_down\.weight' is 9216×3072, the model's Linear 768×256.*flux-mini/,
    );
    await refuses(
      writeLora(one(dev, ['double_blocks.0.img_attn.proj']), 'bfl'),
      /'double_blocks\.0\.img_attn\.proj\.lora_A\.weight' is 3072×3072, the model's Linear is 256×256/,
    );
    await refuses(writeLora(one(dev, ['double_blocks.0.img_attn.proj']), 'peft'), /transformer\.transformer_blocks\.0\.attn\.to_out\.0\.lora_A/);
    await refuses(
      writeLora(one(dev, ['double_blocks.11.txt_mlp.0']), 'bfl'),
      /'double_blocks\.11\.txt_mlp\.0\.lora_A\.weight' is not on a Linear of this model/,
    );
  });

  it('wrong shapes within the file, a stray key, a tensor that is no LoRA factor', async () => {
    const lora = one(mini, ['single_blocks.1.linear2']);
    const bfl = loraToBfl(lora);
    const a = bfl.get('single_blocks.1.linear2.lora_A.weight')!;
    bfl.set('single_blocks.1.linear2.lora_A.weight', { shape: [4, a.shape[1]! - 1], data: a.data.subarray(0, 4 * (a.shape[1]! - 1)) });
    await refuses(writeTensors(bfl, 'F32'), /single_blocks\.1\.linear2/);
    const kohya = loraToKohya(lora);
    kohya.set('lora_te1_text_model_encoder_layers_0_mlp_fc1.alpha', { shape: [], data: Float32Array.of(4) });
    await refuses(writeTensors(kohya, 'F32'), /'lora_te1_text_model_encoder_layers_0_mlp_fc1\.alpha' belongs to no LoRA module/);
    const extras = loraToBfl(lora);
    extras.set('single_blocks.0.norm.key_norm.scale', { shape: [64], data: new Float32Array(64) });
    await refuses(writeTensors(extras, 'F32'), /'single_blocks\.0\.norm\.key_norm\.scale' is not a LoRA factor/);
  });

  it('what the inference session cannot apply: a non-block Linear, a rank above 32, NaN', async () => {
    await refuses(writeLora(one(mini, ['img_in'])), /'img_in\.lora_A\.weight': flux-mini applies LoRAs to the Linears of the double and single blocks only/);
    await refuses(
      writeLora(one(mini, ['double_blocks.1.txt_mod.lin'], 64), 'kohya'),
      /'lora_unet_double_blocks_1_txt_mod_lin\.lora_down\.weight' has rank 64; flux-mini applies LoRAs up to rank 32/,
    );
    const nan = one(mini, ['double_blocks.0.img_mlp.2']);
    nan.get('double_blocks.0.img_mlp.2')!.up[5] = Number.NaN;
    await refuses(writeLora(nan), /'double_blocks\.0\.img_mlp\.2\.lora_B\.weight' holds NaN/);
  });
});
