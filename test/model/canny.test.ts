// canny.ts against OpenCV itself: rgbToGray against cv.cvtColor(COLOR_RGB2GRAY), canny / cannyRgb
// against cv.Canny(…, 3, false) on one- and three-channel images, pixel for pixel, over images
// chosen to reach every branch (noise, plateaus, gradients, hard shapes, tiny and odd sizes, an
// emoji scene, a JPEG) and threshold pairs (defaults, zero, equal, tiny, above most magnitudes,
// swapped, fractional). The reference is opencv.js from @techstark/opencv-js (a dev dependency).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Rng } from '../../src/engine/rng.ts';
import type { RgbImage } from '../../src/model/backend.ts';
import { canny, cannyControlImage, cannyRgb, rgbToGray } from '../../src/model/conditioning/canny.ts';
import { listConcepts, loadSprites, renderScene } from '../../src/model/pretrain/scenes.ts';

// The few pieces of the opencv.js API used here (its bundled typings pull in a large tree).
interface CvMat {
  data: Uint8Array;
  rows: number;
  cols: number;
  channels(): number;
  isContinuous(): boolean;
  delete(): void;
}
interface Cv {
  Mat: new (rows?: number, cols?: number, type?: number) => CvMat;
  CV_8UC1: number;
  CV_8UC3: number;
  COLOR_RGB2GRAY: number;
  cvtColor(src: CvMat, dst: CvMat, code: number): void;
  Canny(src: CvMat, dst: CvMat, low: number, high: number, apertureSize: number, L2gradient: boolean): void;
  getBuildInformation(): string;
  onRuntimeInitialized?: () => void;
}

/**
 * Loads the emscripten build (once per file, about a second). Its module object has a `then` that
 * calls back with the module itself, so resolving any promise with it (`await`, or returning it
 * from an async function) re-enters that `then` forever: it is handed out wrapped in an object.
 * The runtime is ready when `onRuntimeInitialized` fires, or already if `Mat` is defined.
 */
async function loadOpenCv(): Promise<{ cv: Cv }> {
  const module = createRequire(import.meta.url)('@techstark/opencv-js') as Cv;
  if (typeof module.Mat !== 'function') {
    await new Promise<void>((resolve) => {
      module.onRuntimeInitialized = () => resolve();
    });
  }
  return { cv: module };
}

let cv: Cv;

function toMat(data: Uint8Array, width: number, height: number, channels: 1 | 3): CvMat {
  const mat = new cv.Mat(height, width, channels === 1 ? cv.CV_8UC1 : cv.CV_8UC3);
  mat.data.set(data);
  return mat;
}

/** Runs `f` on a fresh output Mat and returns a copy of its bytes (the Mat's data is a view into the wasm heap). */
function withOutput(f: (dst: CvMat) => void, width: number, height: number): Uint8Array {
  const dst = new cv.Mat();
  try {
    f(dst);
    assert.equal(dst.isContinuous(), true);
    assert.equal(dst.channels(), 1);
    assert.deepEqual([dst.cols, dst.rows], [width, height]);
    return dst.data.slice();
  } finally {
    dst.delete();
  }
}

function cvGray(img: RgbImage): Uint8Array {
  const src = toMat(img.data, img.width, img.height, 3);
  try {
    return withOutput((dst) => cv.cvtColor(src, dst, cv.COLOR_RGB2GRAY), img.width, img.height);
  } finally {
    src.delete();
  }
}

function cvCanny(data: Uint8Array, width: number, height: number, channels: 1 | 3, low: number, high: number): Uint8Array {
  const src = toMat(data, width, height, channels);
  try {
    return withOutput((dst) => cv.Canny(src, dst, low, high, 3, false), width, height);
  } finally {
    src.delete();
  }
}

/** `null` when equal, else how many pixels differ and where the first one is. */
function difference(ours: Uint8Array, theirs: Uint8Array, width: number): string | null {
  assert.equal(ours.length, theirs.length);
  let count = 0;
  let first = -1;
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== theirs[i]) {
      count++;
      if (first < 0) first = i;
    }
  }
  if (count === 0) return null;
  const x = first % width;
  const y = Math.floor(first / width);
  return `${count} of ${ours.length} pixels differ (first at x=${x} y=${y}: ours ${ours[first]}, OpenCV ${theirs[first]})`;
}

// --- test images ---------------------------------------------------------------------------------

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      data.set(
        pixel(x, y).map((v) => Math.max(0, Math.min(255, Math.round(v)))),
        (y * width + x) * 3,
      );
  }
  return { width, height, data };
}

function noise(seed: number, width: number, height: number, levels: readonly number[] | null = null): RgbImage {
  const rng = new Rng(seed);
  const v = () => (levels ? levels[rng.int(levels.length)]! : rng.int(256));
  return image(width, height, () => [v(), v(), v()]);
}

/** Random values confined to [base − amplitude, base + amplitude]: gradients around the small thresholds. */
function faintNoise(seed: number, width: number, height: number, base: number, amplitude: number): RgbImage {
  const rng = new Rng(seed);
  const v = () => base - amplitude + rng.int(2 * amplitude + 1);
  return image(width, height, () => [v(), v(), v()]);
}

function shapes(width: number, height: number): RgbImage {
  return image(width, height, (x, y) => {
    if (x >= 6 && x < 30 && y >= 8 && y < 27) return [230, 30, 40];
    if ((x - 44) ** 2 + (y - 40) ** 2 < 14 ** 2) return [30, 200, 90];
    if ((x - 18) ** 2 + (y - 46) ** 2 < 9.5 ** 2) return [255, 255, 255];
    // A diagonal band: edges at 45° and 135° for the diagonal branch of the suppression.
    if (Math.abs(x - y + 20) < 4 || Math.abs(x + y - 100) < 3) return [20, 20, 200];
    return [10, 10, 10];
  });
}

/** Two colours of (nearly) equal luma side by side: an edge only the three-channel Canny sees. */
function isoluminant(width: number, height: number): RgbImage {
  return image(width, height, (x, y) => (x + (y >> 2) < width / 2 ? [200, 80, 80] : [60, 132, 140]));
}

function gradients(): { name: string; img: RgbImage }[] {
  return [
    { name: 'horizontal ramp', img: image(50, 40, (x) => [x * 5, x * 5, x * 5]) },
    { name: 'diagonal ramp', img: image(50, 40, (x, y) => [x * 3 + y * 2, 255 - x * 4, y * 6]) },
    { name: 'radial', img: image(45, 45, (x, y) => [255 - 9 * Math.hypot(x - 22, y - 22), 128, 6 * Math.hypot(x - 10, y - 30)]) },
    { name: 'steep sine', img: image(61, 33, (x, y) => [128 + 127 * Math.sin(x / 2 + y / 3), 128 + 100 * Math.cos(y / 2), 90]) },
  ];
}

async function sceneImages(): Promise<{ name: string; img: RgbImage }[]> {
  const wanted = ['cactus', 'rocket', 'octopus'];
  const concepts = listConcepts().filter((c) => wanted.includes(c.name));
  assert.equal(concepts.length, wanted.length, 'the scene concepts exist');
  const sprites = await loadSprites(concepts);
  const scene = renderScene(
    {
      background: 'teal',
      objects: [
        { concept: 'cactus', cx: 0.3, cy: 0.45, size: 0.45 },
        { concept: 'rocket', cx: 0.7, cy: 0.55, size: 0.4 },
        { concept: 'octopus', cx: 0.5, cy: 0.8, size: 0.3 },
      ],
    },
    sprites,
    128,
    96,
  );
  // No photograph is stored in the repository, so the JPEG case is this scene with grain,
  // JPEG-compressed by sharp and decoded again: block artefacts and chroma subsampling included.
  const rng = new Rng(7);
  const grainy = Uint8Array.from(scene.data, (v) => Math.max(0, Math.min(255, v + rng.int(31) - 15)));
  const jpeg = await sharp(Buffer.from(grainy), { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .jpeg({ quality: 70 })
    .toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return [
    { name: 'emoji scene', img: scene },
    { name: 'JPEG scene', img: { width: info.width, height: info.height, data: new Uint8Array(data) } },
  ];
}

/**
 * A 7×7 gray image whose centre has dx = 239, dy = 99: |dy|/|dx| = 0.414226 lies between
 * 13573/2^15 and 13574/2^15, so only the exact TG22 constant sorts it into the diagonal case (found
 * by search; with TG22 one larger its centre becomes an edge at 50/200).
 */
function tangentBoundary(): RgbImage {
  // biome-ignore format: a 7×7 grid
  const gray = [
    173, 77, 124, 162, 51, 43, 23,
    39, 228, 185, 176, 165, 32, 130,
    136, 4, 0, 0, 0, 178, 236,
    167, 84, 0, 206, 100, 146, 42,
    5, 251, 0, 30, 39, 46, 15,
    203, 12, 248, 68, 7, 90, 91,
    50, 65, 244, 67, 18, 228, 251,
  ];
  return image(7, 7, (x, y) => {
    const v = gray[y * 7 + x]!;
    return [v, v, v];
  });
}

const THRESHOLDS: readonly [number, number][] = [
  [50, 200], // FLUX.1 Canny's defaults
  [0, 0],
  [100, 100],
  [10, 30],
  [300, 500],
  [200, 50], // low > high: OpenCV swaps them
  [12.5, 40.7], // fractional: OpenCV floors them
];

describe('Canny against OpenCV (opencv.js)', () => {
  const cases: { name: string; img: RgbImage }[] = [];

  before(async () => {
    ({ cv } = await loadOpenCv());
    cases.push(
      { name: 'noise 64×48', img: noise(1, 64, 48) },
      { name: 'noise 37×23', img: noise(2, 37, 23) },
      { name: 'three-level noise (plateaus, ties)', img: noise(3, 40, 30, [0, 128, 255]) },
      { name: 'two-level noise', img: noise(4, 33, 27, [100, 140]) },
      { name: 'faint noise', img: faintNoise(5, 48, 36, 120, 6) },
      { name: 'shapes 64×64', img: shapes(64, 64) },
      { name: 'isoluminant halves', img: isoluminant(40, 24) },
      { name: 'tangent boundary', img: tangentBoundary() },
      ...gradients(),
      { name: 'tiny 1×1', img: noise(6, 1, 1) },
      { name: 'tiny 2×3', img: noise(7, 2, 3) },
      { name: 'tiny 3×2', img: noise(8, 3, 2) },
      { name: 'tiny 3×3', img: noise(9, 3, 3) },
      { name: 'column 1×9', img: noise(10, 1, 9) },
      { name: 'row 9×1', img: noise(11, 9, 1) },
      { name: 'three-level 4×5', img: noise(12, 4, 5, [0, 255]) },
      ...(await sceneImages()),
    );
  });

  it('loads OpenCV 4.5', () => {
    // @techstark/opencv-js 4.5.2 ships the build of OpenCV 4.5.1 (docs.opencv.org/4.5.1/opencv.js).
    assert.match(cv.getBuildInformation(), /General configuration for OpenCV 4\.5\./);
  });

  it('rgbToGray matches cv.cvtColor(COLOR_RGB2GRAY) on every image', () => {
    const mismatches = cases.flatMap(({ name, img }) => {
      const diff = difference(rgbToGray(img), cvGray(img), img.width);
      return diff ? [`${name} ${img.width}×${img.height}: ${diff}`] : [];
    });
    assert.deepEqual(mismatches, []);
  });

  it('rgbToGray matches cv.cvtColor on all 2^24 colours', () => {
    // 64 images of 512×512, each holding a 4-value slice of red with every green and blue.
    const side = 512;
    let differing = 0;
    for (let r0 = 0; r0 < 256; r0 += 4) {
      const data = new Uint8Array(side * side * 3);
      for (let i = 0; i < side * side; i++) {
        data[i * 3] = r0 + (i >> 16);
        data[i * 3 + 1] = (i >> 8) & 255;
        data[i * 3 + 2] = i & 255;
      }
      const img = { width: side, height: side, data };
      const ours = rgbToGray(img);
      const theirs = cvGray(img);
      for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing++;
    }
    assert.equal(differing, 0, `${differing} of 16777216 colours differ`);
  });

  it('canny(gray) matches cv.Canny(gray, …, 3, false) on every image and threshold pair', () => {
    const mismatches: string[] = [];
    for (const { name, img } of cases) {
      const gray = cvGray(img);
      for (const [low, high] of THRESHOLDS) {
        const diff = difference(canny(gray, img.width, img.height, low, high), cvCanny(gray, img.width, img.height, 1, low, high), img.width);
        if (diff) mismatches.push(`${name} ${img.width}×${img.height} gray, thresholds ${low}/${high}: ${diff}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('cannyRgb matches cv.Canny on the 3-channel image on every image and threshold pair', () => {
    const mismatches: string[] = [];
    for (const { name, img } of cases) {
      for (const [low, high] of THRESHOLDS) {
        const diff = difference(cannyRgb(img, low, high), cvCanny(img.data, img.width, img.height, 3, low, high), img.width);
        if (diff) mismatches.push(`${name} ${img.width}×${img.height} RGB, thresholds ${low}/${high}: ${diff}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('the tests reach edges: the defaults find some, 300/500 fewer, and colour finds the isoluminant edge', () => {
    const count = (e: Uint8Array) => e.reduce((n, v) => n + (v ? 1 : 0), 0);
    const scene = cases.find((c) => c.name === 'emoji scene')!.img;
    const atDefaults = count(cannyRgb(scene, 50, 200));
    assert.ok(atDefaults > 100, `${atDefaults} edge pixels at 50/200`);
    assert.ok(count(cannyRgb(scene, 300, 500)) < atDefaults);
    const iso = cases.find((c) => c.name === 'isoluminant halves')!.img;
    assert.equal(count(canny(rgbToGray(iso), iso.width, iso.height, 50, 200)), 0, 'gray sees no edge');
    assert.ok(count(cannyRgb(iso, 50, 200)) >= iso.height, 'colour sees it');
  });

  it('cannyControlImage is white-on-black RGB of the same size: the RGB Canny on every channel', () => {
    for (const { name, img } of cases) {
      const control = cannyControlImage(img, 50, 200);
      assert.deepEqual([control.width, control.height, control.data.length], [img.width, img.height, img.width * img.height * 3], name);
      const edges = cannyRgb(img, 50, 200);
      for (let i = 0; i < edges.length; i++) {
        const px = [control.data[i * 3], control.data[i * 3 + 1], control.data[i * 3 + 2]];
        if (px[0] !== edges[i] || px[1] !== edges[i] || px[2] !== edges[i]) assert.fail(`${name}: pixel ${i} is ${px}, edge ${edges[i]}`);
      }
    }
  });

  it('rejects data of the wrong length and non-finite thresholds; an empty image has no edges', () => {
    assert.throws(() => canny(new Uint8Array(5), 2, 3, 50, 200), RangeError);
    assert.throws(() => rgbToGray({ width: 2, height: 2, data: new Uint8Array(4) }), RangeError);
    assert.throws(() => canny(new Uint8Array(4), 2, 2, Number.NaN, 200), RangeError);
    assert.deepEqual(canny(new Uint8Array(0), 0, 0, 50, 200), new Uint8Array(0));
  });
});
