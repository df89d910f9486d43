// The Canny edge map of FLUX.1 Canny's conditioning, reproducing OpenCV bit for bit.
//
// BFL's preprocessor (flux `modules/image_embedders.py`, `CannyImageEncoder`) runs
// `cv2.Canny(img, low, high)` on the 8-bit RGB image itself and feeds the model the edges repeated
// over three channels. To give the model the control images of BFL's own pipeline, "an edge
// detector" is not good enough: this file follows OpenCV 4.5's `modules/imgproc/src/canny.cpp`
// (apertureSize 3, L1 gradient) step for step, including its border conventions and fixed-point
// angle test, and `color_rgb.simd.hpp`'s fixed-point RGB→gray. test/model/canny.test.ts checks it
// pixel for pixel against OpenCV's own build (opencv.js).

import type { RgbImage } from '../backend.ts';

// --- RGB → gray ----------------------------------------------------------------------------------

// OpenCV's 8-bit RGB2GRAY does not use the float weights 0.299/0.587/0.114: in 4.x it uses them
// scaled by 2^15 and rounded (color.hpp: RY15 = 9798, GY15 = 19235, BY15 = 3735, gray_shift = 15),
// adds half of 2^15 and shifts (CV_DESCALE). Both float weights and the 2^14 constants of OpenCV
// 3.x (R2Y/G2Y/B2Y with yuv_shift = 14) are off by one on some colours (about 0.3% of them for the
// latter).
const GRAY_SHIFT = 15;
const RY15 = 9798;
const GY15 = 19235;
const BY15 = 3735;
const GRAY_ROUND = 1 << (GRAY_SHIFT - 1);

/** Exactly `cv.cvtColor(src, dst, cv.COLOR_RGB2GRAY)` for an 8-bit RGB image: width·height bytes. */
export function rgbToGray(img: RgbImage): Uint8Array {
  const n = checkSize(img.width, img.height, img.data.length, 3);
  const src = img.data;
  const gray = new Uint8Array(n);
  for (let i = 0, s = 0; i < n; i++, s += 3) {
    // The weights sum to 2^15, so the shifted value is at most 255: no saturation needed.
    gray[i] = (src[s]! * RY15 + src[s + 1]! * GY15 + src[s + 2]! * BY15 + GRAY_ROUND) >> GRAY_SHIFT;
  }
  return gray;
}

// --- Canny ---------------------------------------------------------------------------------------

/** Exactly `cv.Canny(gray, edges, low, high, 3, false)` on a one-channel 8-bit image: 0 or 255 per pixel. */
export function canny(gray: Uint8Array, width: number, height: number, lowThreshold: number, highThreshold: number): Uint8Array {
  return cannyMultiChannel(gray, width, height, 1, lowThreshold, highThreshold);
}

/**
 * Exactly `cv.Canny(rgb, edges, low, high, 3, false)` on the 3-channel image itself (what BFL's
 * preprocessor calls): at each pixel the channel with the largest gradient magnitude decides.
 */
export function cannyRgb(img: RgbImage, lowThreshold: number, highThreshold: number): Uint8Array {
  return cannyMultiChannel(img.data, img.width, img.height, 3, lowThreshold, highThreshold);
}

/**
 * The control image FLUX.1 Canny is conditioned on: BFL's `CannyImageEncoder` — Canny on the RGB
 * image (not on its gray version: OpenCV takes the strongest channel per pixel, which also finds
 * edges between colours of equal luma), repeated over three channels, white edges on black.
 */
export function cannyControlImage(img: RgbImage, low: number, high: number): RgbImage {
  const edges = cannyRgb(img, low, high);
  const data = new Uint8Array(edges.length * 3);
  for (let i = 0; i < edges.length; i++) data.fill(edges[i]!, i * 3, i * 3 + 3);
  return { width: img.width, height: img.height, data };
}

// Pixel states in the edge map: canny.cpp's 0, 1 and 2.
const CANDIDATE = 0; // passed non-maximum suppression, above low: an edge if it touches a strong one
const NOT_EDGE = 1; // suppressed, at or below low, or outside the image
const EDGE = 2; // above high, or reached from such a pixel by hysteresis

// tan(22.5°) in Q15, rounded as canny.cpp does: (int)(0.41421356… · 2^15 + 0.5).
const CANNY_SHIFT = 15;
const TG22 = 13573;

function cannyMultiChannel(src: Uint8Array, width: number, height: number, channels: number, lowThreshold: number, highThreshold: number): Uint8Array {
  checkSize(width, height, src.length, channels);
  if (!Number.isFinite(lowThreshold) || !Number.isFinite(highThreshold)) {
    throw new RangeError(`canny: thresholds must be finite numbers, got ${lowThreshold} and ${highThreshold}`);
  }
  // OpenCV swaps the thresholds rather than rejecting low > high, then floors both (cvFloor): the
  // magnitudes are integers, so `m > floor(t)` is the same test as `m > t` for fractional t.
  const [lo, hi] = lowThreshold > highThreshold ? [highThreshold, lowThreshold] : [lowThreshold, highThreshold];
  const low = Math.floor(lo);
  const high = Math.floor(hi);

  const { dx, dy } = sobel3x3(src, width, height, channels);
  const { mag, gx, gy } = strongestChannelL1(dx, dy, width, height, channels);
  const { map, strong } = suppressNonMaxima(mag, gx, gy, width, height, low, high);
  hysteresis(map, strong, width + 2);
  return edgesFromMap(map, width, height);
}

function checkSize(width: number, height: number, length: number, channels: number): number {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`image size must be non-negative integers, got ${width}×${height}`);
  }
  const n = width * height;
  if (length !== n * channels) throw new RangeError(`image data has ${length} bytes, expected ${width}×${height}×${channels} = ${n * channels}`);
  return n;
}

/**
 * `Sobel(src, dx, CV_16S, 1, 0, 3, 1, 0, BORDER_REPLICATE)` and its dy twin, per channel
 * (interleaved like the input). Canny asks for BORDER_REPLICATE explicitly, so the gradient at the
 * edge of the image uses the edge pixel itself as its missing neighbour (and a 1-pixel-wide image
 * has dx = 0). Values fit int16 (at most 4·255), and the kernel is integer, so there is no rounding.
 */
function sobel3x3(src: Uint8Array, width: number, height: number, cn: number): { dx: Int16Array; dy: Int16Array } {
  const dx = new Int16Array(width * height * cn);
  const dy = new Int16Array(width * height * cn);
  const rowStride = width * cn;
  for (let y = 0; y < height; y++) {
    const up = Math.max(y - 1, 0) * rowStride;
    const mid = y * rowStride;
    const down = Math.min(y + 1, height - 1) * rowStride;
    for (let x = 0; x < width; x++) {
      const l = Math.max(x - 1, 0) * cn;
      const c = x * cn;
      const r = Math.min(x + 1, width - 1) * cn;
      for (let k = 0; k < cn; k++) {
        // dx: [-1 0 1] across, weighted [1 2 1] down; dy: the transpose.
        const o = mid + c + k;
        dx[o] = src[up + r + k]! - src[up + l + k]! + 2 * (src[mid + r + k]! - src[mid + l + k]!) + src[down + r + k]! - src[down + l + k]!;
        dy[o] = src[down + l + k]! - src[up + l + k]! + 2 * (src[down + c + k]! - src[up + c + k]!) + src[down + r + k]! - src[up + r + k]!;
      }
    }
  }
  return { dx, dy };
}

/**
 * The L1 magnitude |dx| + |dy| per pixel, on a frame one pixel wider on every side whose border is
 * 0: canny.cpp's magnitude ring buffer holds zeros above the first row, below the last and beside
 * both ends of each row, so non-maximum suppression compares border pixels against 0 (not against
 * replicated values). With several channels, the channel of largest magnitude (the first on a tie)
 * gives the pixel its magnitude and its gradient direction.
 */
function strongestChannelL1(dx: Int16Array, dy: Int16Array, width: number, height: number, cn: number): { mag: Int32Array; gx: Int16Array; gy: Int16Array } {
  const stride = width + 2;
  const mag = new Int32Array(stride * (height + 2));
  const gx = new Int16Array(width * height);
  const gy = new Int16Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      let best = p * cn;
      let bestMag = Math.abs(dx[best]!) + Math.abs(dy[best]!);
      for (let k = 1; k < cn; k++) {
        const m = Math.abs(dx[p * cn + k]!) + Math.abs(dy[p * cn + k]!);
        if (m > bestMag) {
          bestMag = m;
          best = p * cn + k;
        }
      }
      mag[(y + 1) * stride + x + 1] = bestMag;
      gx[p] = dx[best]!;
      gy[p] = dy[best]!;
    }
  }
  return { mag, gx, gy };
}

/**
 * Non-maximum suppression and double thresholding into an edge map of the padded frame (its
 * border NOT_EDGE, so hysteresis never leaves the image). A pixel above `low` survives if its
 * magnitude is a local maximum across the edge, along the gradient direction quantised to 0°, 45°,
 * 90° or 135°. The quantisation is canny.cpp's integer tangent test: with x = |dx| and
 * y = |dy|·2^15, horizontal if y < x·tan22.5°, vertical if y > x·tan67.5° (= tan22.5° + 2), else
 * diagonal, the diagonal's orientation given by whether dx and dy share a sign. The comparisons are
 * deliberately asymmetric (strict on one side, ≥ on the other on the axes) so that a plateau two
 * pixels wide keeps exactly one. Survivors above `high` are EDGE and seed the hysteresis.
 */
function suppressNonMaxima(
  mag: Int32Array,
  gx: Int16Array,
  gy: Int16Array,
  width: number,
  height: number,
  low: number,
  high: number,
): { map: Uint8Array; strong: number[] } {
  const stride = width + 2;
  const map = new Uint8Array(mag.length).fill(NOT_EDGE);
  const strong: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y + 1) * stride + x + 1;
      const m = mag[at]!;
      if (m <= low) continue;
      const xs = gx[y * width + x]!;
      const ys = gy[y * width + x]!;
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) << CANNY_SHIFT;
      const tg22x = ax * TG22;
      let isMax: boolean;
      if (ay < tg22x) {
        isMax = m > mag[at - 1]! && m >= mag[at + 1]!;
      } else if (ay > tg22x + (ax << (CANNY_SHIFT + 1))) {
        isMax = m > mag[at - stride]! && m >= mag[at + stride]!;
      } else {
        // Same signs: the gradient points down-right in image coordinates, so the neighbours
        // across the edge are up-left and down-right; opposite signs: up-right and down-left.
        const s = (xs ^ ys) < 0 ? -1 : 1;
        isMax = m > mag[at - stride - s]! && m > mag[at + stride + s]!;
      }
      if (!isMax) continue;
      if (m > high) {
        map[at] = EDGE;
        strong.push(at);
      } else {
        map[at] = CANDIDATE;
      }
    }
  }
  return { map, strong };
}

/** Promotes every CANDIDATE 8-connected (through candidates) to an EDGE pixel; the rest stay out. */
function hysteresis(map: Uint8Array, stack: number[], stride: number): void {
  const neighbours = [-stride - 1, -stride, -stride + 1, -1, 1, stride - 1, stride, stride + 1];
  while (stack.length > 0) {
    const at = stack.pop()!;
    for (const d of neighbours) {
      if (map[at + d] === CANDIDATE) {
        map[at + d] = EDGE;
        stack.push(at + d);
      }
    }
  }
}

/** The padded edge map's interior as OpenCV's output: 255 for EDGE, 0 otherwise. */
function edgesFromMap(map: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width + 2;
  const edges = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) edges[y * width + x] = map[(y + 1) * stride + x + 1] === EDGE ? 255 : 0;
  }
  return edges;
}
