// flux-mini as the base of LoRA files: what its inference session applies (the one LoRA spec
// every sampling session is built with) and who it is (its weights file and that file's sha256),
// without loading the model.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoraSpec } from '../flux/params.ts';
import type { LoraBase } from '../lora/exchange.ts';
import { blockLinears } from '../lora/lora.ts';
import { loadFluxMiniConfig } from './config.ts';
import { WEIGHTS_URL } from './weights.ts';

/** LoRA branches on every block Linear at the largest rank the API allows; smaller ranks are zero-padded. */
export const INFERENCE_LORA: LoraSpec = { rank: 32, targets: blockLinears, bias: true };

async function sha256Of(path: URL): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

let cached: Promise<LoraBase> | undefined;

/** Read once per process: the config, and the weights file hashed (21 MB, tens of milliseconds). */
export function fluxMiniLoraBase(): Promise<LoraBase> {
  cached ??= (async () => {
    const config = loadFluxMiniConfig();
    return {
      name: config.name,
      weightsFile: basename(fileURLToPath(WEIGHTS_URL)),
      sha256: await sha256Of(WEIGHTS_URL),
      kohyaVersion: 'flux1',
      params: config.flux,
      serves: {
        rank: INFERENCE_LORA.rank,
        targets: INFERENCE_LORA.targets,
        targetsText: 'the Linears of the double and single blocks',
        bias: INFERENCE_LORA.bias,
      },
    };
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
