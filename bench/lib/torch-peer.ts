// The optional PyTorch peer of bench:model (peers/flux_torch.py: BFL's FLUX in PyTorch on the same
// config, shape and threads). Skipped, with the reason, where python3 or its torch is absent:
// nothing in CI depends on it (Debian: apt-get install python3-torch).

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TorchPeer {
  torch?: string;
  params?: number;
  forward_s?: number;
  forward_median_s?: number;
  train_step_s?: number;
  train_step_median_s?: number;
  skipped?: string;
}

const SCRIPT = fileURLToPath(new URL('../peers/flux_torch.py', import.meta.url));

export function runTorchPeer(o: { config: string; batch: number; imgTokens: number; txtTokens: number; threads: number; reps: number }): TorchPeer {
  // The first interpreter that imports torch: PATH's python3 may be a pyenv one that does not see Debian's package.
  const candidates = process.env.FLUXTUNE_PYTHON ? [process.env.FLUXTUNE_PYTHON] : ['python3', '/usr/bin/python3'];
  const python = candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) {
    const skipped = `no PyTorch here (${candidates.join(', ')} cannot import torch): install python3-torch (or set FLUXTUNE_PYTHON) to get the peer`;
    console.warn(`bench:model --peer torch skipped: ${skipped}`);
    return { skipped };
  }
  const run = spawnSync(
    python,
    [
      SCRIPT,
      '--config',
      o.config,
      '--batch',
      `${o.batch}`,
      '--img-tokens',
      `${o.imgTokens}`,
      '--txt-tokens',
      `${o.txtTokens}`,
      '--threads',
      `${o.threads}`,
      '--reps',
      `${o.reps}`,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const line = run.stdout?.trim().split('\n').pop();
  if (run.status !== 0 || !line) throw new Error(`bench:model: the torch peer failed (${run.status}): ${run.stderr?.slice(-2000)}`);
  return JSON.parse(line) as TorchPeer;
}
