// Seam removal for fill: the model repaints the masked region, but its colours there drift a little
// from the user's pixels around it (a flat background comes back a few levels darker), and pasting
// the sample into the kept image shows the mask's outline. The fix is the membrane form of Poisson
// image editing (Pérez et al. 2003; Farbman et al. 2009): the difference between the user's image and
// the sample, known on the kept pixels, is continued harmonically into the masked ones and added to
// the sample there, so the repainted region meets its surroundings without a step while its own
// detail (the gradients) stays the model's.

/**
 * Continues `values` [H·W·C, channel-last] from the pixels where `known` is non-zero into the others
 * as the solution of Laplace's equation (5-point stencil; the image border is a free edge). Known
 * pixels are returned unchanged; with no known pixel at all the field is zero. Conjugate gradients
 * on the unknown pixels, per channel.
 */
export function harmonicFill(values: Float32Array, known: Uint8Array, width: number, height: number, channels: number, tolerance = 1e-4): Float32Array {
  const n = width * height;
  const out = new Float32Array(n * channels);
  const unknown: number[] = [];
  const slot = new Int32Array(n).fill(-1);
  for (let p = 0; p < n; p++) {
    if (known[p]) for (let c = 0; c < channels; c++) out[p * channels + c] = values[p * channels + c]!;
    else {
      slot[p] = unknown.length;
      unknown.push(p);
    }
  }
  if (unknown.length === 0 || unknown.length === n) return out;
  const m = unknown.length;
  const neighbours = (p: number): number[] => {
    const x = p % width;
    const y = (p - x) / width;
    const out: number[] = [];
    if (x > 0) out.push(p - 1);
    if (x < width - 1) out.push(p + 1);
    if (y > 0) out.push(p - width);
    if (y < height - 1) out.push(p + width);
    return out;
  };
  const adjacency = unknown.map(neighbours);
  // A x = b with A = the graph Laplacian restricted to the unknowns (symmetric positive definite
  // when some unknown touches a known pixel, which holds on a connected image with both kinds)
  const apply = (x: Float64Array, y: Float64Array) => {
    for (let i = 0; i < m; i++) {
      const adj = adjacency[i]!;
      let s = adj.length * x[i]!;
      for (const q of adj) {
        const j = slot[q]!;
        if (j >= 0) s -= x[j]!;
      }
      y[i] = s;
    }
  };
  const x = new Float64Array(m);
  const r = new Float64Array(m);
  const d = new Float64Array(m);
  const ad = new Float64Array(m);
  for (let c = 0; c < channels; c++) {
    let bNorm = 0;
    for (let i = 0; i < m; i++) {
      let b = 0;
      for (const q of adjacency[i]!) if (slot[q]! < 0) b += values[q * channels + c]!;
      x[i] = 0;
      r[i] = b;
      bNorm += b * b;
    }
    if (bNorm > 0) {
      d.set(r);
      let rr = bNorm;
      const stop = tolerance * tolerance * bNorm;
      for (let it = 0; it < 4 * m && rr > stop; it++) {
        apply(d, ad);
        let dad = 0;
        for (let i = 0; i < m; i++) dad += d[i]! * ad[i]!;
        const alpha = rr / dad;
        let next = 0;
        for (let i = 0; i < m; i++) {
          x[i]! += alpha * d[i]!;
          r[i]! -= alpha * ad[i]!;
          next += r[i]! * r[i]!;
        }
        const beta = next / rr;
        rr = next;
        for (let i = 0; i < m; i++) d[i] = r[i]! + beta * d[i]!;
      }
    }
    for (let i = 0; i < m; i++) out[unknown[i]! * channels + c] = x[i]!;
  }
  return out;
}
