/** Hard caps on an uploaded dataset. Enforced while streaming: a ZIP's headers are never trusted. */
export interface DatasetLimits {
  maxZipBytes: number;
  maxImages: number;
  /** Entries of any kind in the central directory (floods of tiny entries are a DoS too). */
  maxEntries: number;
  maxEntryUncompressedBytes: number;
  maxTotalUncompressedBytes: number;
  /** Uncompressed/compressed, checked once an entry has produced more than ratioFloorBytes. */
  maxCompressionRatio: number;
  ratioFloorBytes: number;
  /** Images are downscaled to at most this many pixels (BFL: "capped at 1MP"). */
  maxImagePixels: number;
  /** Images whose header claims more pixels than this are refused before decoding. */
  maxDecodePixels: number;
  maxCaptionBytes: number;
}

export const DEFAULT_DATASET_LIMITS: DatasetLimits = {
  maxZipBytes: 100 * 1024 * 1024,
  maxImages: 20,
  maxEntries: 1000,
  maxEntryUncompressedBytes: 64 * 1024 * 1024,
  maxTotalUncompressedBytes: 512 * 1024 * 1024,
  maxCompressionRatio: 100,
  ratioFloorBytes: 1024 * 1024,
  maxImagePixels: 1024 * 1024,
  maxDecodePixels: 100_000_000,
  maxCaptionBytes: 64 * 1024,
};
