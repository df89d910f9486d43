// T5's relative position buckets (T5Attention._relative_position_bucket, after Mesh TensorFlow):
// relative position = memory (key) position − query position; the encoder is bidirectional, so
// half the buckets are for positive offsets (+num_buckets/2). Of each half, offsets below
// max_exact = num_buckets/4 get a bucket each; larger ones are binned logarithmically up to
// max_distance, and everything beyond shares the last bucket.
//
// HF computes the logarithmic part on a float32 tensor and truncates it with `.to(torch.long)`:
//   max_exact + (log(rp.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact))
// so each step is rounded to float32 here (Math.fround) to land in the same bucket at every
// offset, not only the ones a float64 computation agrees on.

/** The bucket of one relative position (memory − query). */
export function relativePositionBucket(relativePosition: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let buckets = numBuckets;
  let bucket = 0;
  let rp = relativePosition;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (rp > 0) bucket += buckets;
    rp = Math.abs(rp);
  } else {
    rp = -Math.min(rp, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (rp < maxExact) return bucket + rp;
  const f = Math.fround;
  const logRatio = f(Math.log(f(rp / maxExact)));
  const scaled = f(f(logRatio / f(Math.log(maxDistance / maxExact))) * (buckets - maxExact));
  return bucket + Math.min(maxExact + Math.trunc(scaled), buckets - 1);
}

/** Buckets [queryLength, keyLength] (row = query position) as int64, the Gather indices of the bias table. */
export function relativeBuckets(queryLength: number, keyLength: number, bidirectional: boolean, numBuckets: number, maxDistance: number): BigInt64Array {
  const out = new BigInt64Array(queryLength * keyLength);
  for (let q = 0; q < queryLength; q++) {
    for (let k = 0; k < keyLength; k++) out[q * keyLength + k] = BigInt(relativePositionBucket(k - q, bidirectional, numBuckets, maxDistance));
  }
  return out;
}
