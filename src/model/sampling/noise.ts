// Seeded Gaussian noise for sampling: same seed, same image, on any machine. (Only the
// distribution matches PyTorch's generator, not the values.)

import { Rng } from '../../engine/rng.ts';

export function seededNoise(seed: number, size: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(size));
}
