// The novel-concept suite of `bench:quality -- --suite novel` (issue 10): ten made-up logos and
// objects flux-mini's pretraining never sees, rendered like a user's photos of one thing (512 px JPEG,
// varied backgrounds, place, scale, a slight rotation and lighting). Every design is geometry in this
// file; pretraining draws the Twemoji sprites of `emoji-datasource-twitter` (src/model/pretrain/scenes.ts)
// and generic figures (src/model/pretrain/shapes.ts: circles, stars, hearts… plain, striped, dotted,
// outlined or two-tone) and never imports src/model/eval (test/model/import-boundaries.test.ts), so none
// of these designs can leak into the base model; test/model/pretrain-shapes.test.ts keeps the figures'
// and patterns' names apart from these nouns and designs.

import sharp from 'sharp';
import type { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';
import { COLORS } from '../flux-mini/caption-vocabulary.ts';

type Rgb = readonly [number, number, number];

export interface NovelConcept {
  name: string;
  /** The class word a user would write in "a photo of TOK <noun>". */
  noun: string;
  palette: readonly Rgb[];
  /** Palette index at (u, v) in the design's own frame [-1, 1]², or -1 outside the design. */
  paint(u: number, v: number): number;
}

const ring = (u: number, v: number) => Math.hypot(u, v);
const angle = (u: number, v: number) => Math.atan2(v, u);

export const NOVEL_CONCEPTS: readonly NovelConcept[] = [
  {
    name: 'striped shield',
    noun: 'shield',
    palette: [
      [200, 30, 60],
      [250, 235, 200],
      [40, 40, 60],
    ],
    paint(u, v) {
      const inside = Math.abs(u) < 0.75 && v > -0.85 && (v < 0.2 || Math.abs(u) < 0.75 * Math.sqrt(Math.max(0, 1 - ((v - 0.2) / 0.75) ** 2)));
      if (!inside) return -1;
      if (Math.abs(u) > 0.66 || v < -0.76) return 2;
      return Math.floor((u + v + 4) * 3) % 2;
    },
  },
  {
    name: 'ringed orb',
    noun: 'orb',
    palette: [
      [30, 60, 160],
      [240, 200, 40],
    ],
    paint(u, v) {
      const d = ring(u, v);
      return d > 0.9 ? -1 : Math.floor(d * 5) % 2;
    },
  },
  {
    name: 'petal badge',
    noun: 'badge',
    palette: [
      [240, 120, 20],
      [255, 255, 255],
      [90, 30, 120],
    ],
    paint(u, v) {
      const d = ring(u, v);
      const r = 0.55 + 0.35 * Math.cos(5 * angle(u, v - 0.02) + Math.PI / 2);
      if (d > Math.max(r, 0.0)) return -1;
      return d < 0.25 ? 2 : d < 0.33 ? 1 : 0;
    },
  },
  {
    name: 'checker cube',
    noun: 'cube',
    palette: [
      [20, 20, 20],
      [230, 230, 230],
      [120, 200, 90],
    ],
    paint(u, v) {
      // An isometric cube: top rhombus and two side faces, each with its own checker.
      const top = Math.abs(u) / 0.8 + Math.abs(v + 0.45) / 0.45 <= 1;
      const side = Math.abs(u) <= 0.8 && v >= -0.45 + 0.5625 * Math.abs(u) && v <= 0.45 + 0.5625 * Math.abs(u) && v <= 0.9;
      if (top) return 2;
      if (!side) return -1;
      const s = Math.floor((u + 1) * 4) + Math.floor((v - 0.5625 * Math.abs(u) + 1) * 4);
      return s % 2;
    },
  },
  {
    name: 'crescent mark',
    noun: 'logo',
    palette: [
      [20, 150, 140],
      [250, 90, 80],
    ],
    paint(u, v) {
      if (ring(u - 0.45, v + 0.35) < 0.16) return 1;
      const outer = ring(u, v) < 0.85;
      const cut = ring(u - 0.35, v - 0.1) < 0.65;
      return outer && !cut ? 0 : -1;
    },
  },
  {
    name: 'zigzag banner',
    noun: 'banner',
    palette: [
      [110, 40, 170],
      [255, 210, 0],
    ],
    paint(u, v) {
      if (Math.abs(u) > 0.9 || Math.abs(v) > 0.45) return -1;
      const zig = 0.12 * Math.abs(((u * 4 + 8) % 2) - 1) - 0.06;
      return Math.abs(v - zig) < 0.12 ? 1 : 0;
    },
  },
  {
    name: 'hex nut',
    noun: 'nut',
    palette: [
      [150, 160, 175],
      [70, 75, 85],
    ],
    paint(u, v) {
      const a = Math.abs(angle(u, v)) % (Math.PI / 3);
      const hex = (ring(u, v) * Math.cos(a - Math.PI / 6)) / Math.cos(Math.PI / 6);
      if (hex > 0.85) return -1;
      const d = ring(u, v);
      if (d < 0.32) return -1;
      return d < 0.4 ? 1 : 0;
    },
  },
  {
    name: 'chevron stack',
    noun: 'sign',
    palette: [
      [0, 120, 220],
      [255, 255, 255],
    ],
    paint(u, v) {
      if (Math.abs(u) > 0.8 || Math.abs(v) > 0.85) return -1;
      const w = v + 0.7 * Math.abs(u);
      return Math.floor((w + 2) * 3.2) % 2 === 0 ? 0 : 1;
    },
  },
  {
    name: 'dotted kite',
    noun: 'kite',
    palette: [
      [230, 60, 150],
      [40, 40, 40],
    ],
    paint(u, v) {
      if (Math.abs(u) / 0.6 + Math.abs(v + 0.1) / (v < -0.1 ? 0.8 : 0.95) > 1) return -1;
      const du = ((u * 4 + 10) % 1) - 0.5;
      const dv = ((v * 4 + 10) % 1) - 0.5;
      return Math.hypot(du, dv) < 0.22 ? 1 : 0;
    },
  },
  {
    name: 'split ring',
    noun: 'ring',
    palette: [
      [250, 140, 0],
      [0, 90, 60],
    ],
    paint(u, v) {
      const d = ring(u, v);
      if (d > 0.88 || d < 0.5) return -1;
      return u < 0 ? 0 : 1;
    },
  },
];

export interface NovelImage {
  image: RgbImage;
  /** The plain background's named colour, or null for a two-colour gradient backdrop. */
  background: string | null;
}

/** A photo of `concept`: 512 px, plain or gradient backdrop, random place, scale, rotation ±15° and lighting, JPEG round trip. */
export async function renderNovelPhoto(concept: NovelConcept, rng: Rng, size = 512): Promise<NovelImage> {
  const names = Object.keys(COLORS);
  const plain = rng.uniform() < 0.6;
  const background = plain ? names[rng.int(names.length)]! : null;
  const c0: Rgb = plain ? COLORS[background!]! : [rng.int(256), rng.int(256), rng.int(256)];
  const c1: Rgb = plain ? c0 : [rng.int(256), rng.int(256), rng.int(256)];
  const scale = 0.3 + 0.2 * rng.uniform(); // half-size of the design as a fraction of the image
  const cx = scale + 0.05 + (1 - 2 * scale - 0.1) * rng.uniform();
  const cy = scale + 0.05 + (1 - 2 * scale - 0.1) * rng.uniform();
  const rot = ((rng.uniform() - 0.5) * Math.PI) / 6;
  const light = 0.85 + 0.3 * rng.uniform();
  const [cos, sin] = [Math.cos(rot), Math.sin(rot)];
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0];
      for (const [ox, oy] of SUBSAMPLES) {
        const px = (x + ox) / size;
        const py = (y + oy) / size;
        const du = (px - cx) / scale;
        const dv = (py - cy) / scale;
        const k = concept.paint(cos * du + sin * dv, -sin * du + cos * dv);
        const t = py;
        const col = k >= 0 ? concept.palette[k]! : ([c0[0] * (1 - t) + c1[0] * t, c0[1] * (1 - t) + c1[1] * t, c0[2] * (1 - t) + c1[2] * t] as const);
        for (let c = 0; c < 3; c++) acc[c]! += col[c]!;
      }
      // Light falls off towards one corner, like a lamp beside the object.
      const shade = light * (1 - 0.12 * ((x + y) / (2 * size)));
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round((acc[c]! / SUBSAMPLES.length) * shade)));
    }
  }
  const jpeg = await sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  const { data: decoded, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { image: { width: info.width, height: info.height, data: new Uint8Array(decoded) }, background };
}

const SUBSAMPLES: readonly [number, number][] = [
  [0.25, 0.25],
  [0.75, 0.25],
  [0.25, 0.75],
  [0.75, 0.75],
];
