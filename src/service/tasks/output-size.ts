/** Ultra takes an aspect ratio, not a size: about one megapixel at that ratio, sides multiples of 32. */
export function ultraSize(aspectRatio: string, targetPixels = 1024 * 1024): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const width = Math.max(32, Math.round(Math.sqrt((targetPixels * w) / h) / 32) * 32);
  const height = Math.max(32, Math.round(Math.sqrt((targetPixels * h) / w) / 32) * 32);
  return { width, height };
}
