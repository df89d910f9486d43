// Spearman's rank correlation: the Pearson correlation of the ranks, ties given the average of
// the ranks they span (scipy.stats.spearmanr's default). Depth estimators are compared with it
// because monocular depth is only known up to a monotone map (MiDaS-style relative depth).

/** 1-based ranks, tied values sharing the mean of their ranks. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2; // mean of start+1 … end
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's ρ of two equally long samples; NaN when either is constant (as scipy answers). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`samples of ${a.length} and ${b.length} values`);
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i]!) || Number.isNaN(b[i]!)) throw new Error(`NaN at ${i}`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (a.length + 1) / 2; // ranks always average (n + 1) / 2
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? Number.NaN : sab / Math.sqrt(saa * sbb);
}
