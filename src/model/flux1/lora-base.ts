// A FLUX.1 checkpoint folder as the base of LoRA files (lora/exchange.ts): which LoRAs its
// sessions apply — the same as flux-mini's, branches on every block Linear up to rank 32 with
// lora_B.bias, smaller ranks zero-padded — and who it is (the transformer file and its sha256,
// kohya's ss_new_sd_model_hash). Only headers are read, plus one streamed hash of the transformer
// file per process (24 GB for FLUX.1-dev: about half a minute, the first time a LoRA is imported
// or exported).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { LoraSpec } from '../flux/params.ts';
import type { LoraBase } from '../lora/exchange.ts';
import { blockLinears } from '../lora/lora.ts';
import { openFlux1Folder } from './checkpoint-folder.ts';

export const FLUX1_INFERENCE_LORA: LoraSpec = { rank: 32, targets: blockLinears, bias: true };

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const cache = new Map<string, Promise<LoraBase>>();

export function flux1LoraBase(dir: string): Promise<LoraBase> {
  let base = cache.get(dir);
  if (!base) {
    base = (async () => {
      const folder = openFlux1Folder(dir);
      try {
        return {
          name: `FLUX.1-${folder.variant}`,
          weightsFile: basename(folder.transformerFile),
          sha256: await sha256Of(folder.transformerFile),
          kohyaVersion: 'flux1',
          params: folder.params,
          serves: {
            rank: FLUX1_INFERENCE_LORA.rank,
            targets: FLUX1_INFERENCE_LORA.targets,
            targetsText: 'the Linears of the double and single blocks',
            bias: FLUX1_INFERENCE_LORA.bias,
          },
        };
      } finally {
        folder.close();
      }
    })();
    base.catch(() => cache.delete(dir));
    cache.set(dir, base);
  }
  return base;
}
