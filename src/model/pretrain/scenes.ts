// Captioned training scenes composed from the Twemoji images that the `emoji-datasource-twitter`
// npm package ships (graphics CC-BY 4.0, data MIT): one or two emoji at named positions and sizes on
// a named background colour. The captions teach the base model objects, colours and layout words.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Rng } from '../../engine/rng.ts';
import type { RgbImage } from '../backend.ts';
import { article, COLORS, centredCaption, objectCaption } from '../flux-mini/caption-vocabulary.ts';

export interface EmojiConcept {
  /** Caption words, e.g. "evergreen tree". */
  name: string;
  file: string;
  category: string;
}

/** Concepts never shown in pretraining: the finetuning benchmarks and tests learn these. */
export const HELD_OUT = ['cactus', 'penguin', 'pineapple', 'rocket', 'guitar', 'snowman', 'hamburger', 'octopus', 'sunflower', 'strawberry'];

/**
 * The base model's focused vocabulary: 48 visually distinct animals, plants and foods. With 2 CPU
 * cores a pretraining run sees ~50 k scenes an hour; spread over all 275 Animals & Nature / Food &
 * Drink emoji that was ~550 scenes per concept after 2.7 h, and the model had learnt colours and
 * layout but nothing about which emoji a word names (a wrong concept word in the caption cost it no
 * loss at all). 48 concepts get ~6× the scenes each. `vocabulary: 'all'` trains on every emoji.
 */
export const CORE_CONCEPTS = [
  'cat',
  'dog',
  'pig',
  'cow',
  'horse',
  'rabbit',
  'mouse',
  'bear',
  'panda face',
  'tiger',
  'monkey',
  'elephant',
  'lion face',
  'fox face',
  'frog',
  'turtle',
  'snake',
  'snail',
  'bee',
  'butterfly',
  'spider',
  'crab',
  'whale',
  'dolphin',
  'fish',
  'tropical fish',
  'chicken',
  'duck',
  'owl',
  'flamingo',
  'tulip',
  'rose',
  'palm tree',
  'evergreen tree',
  'maple leaf',
  'mushroom',
  'apple',
  'banana',
  'cherries',
  'grapes',
  'watermelon',
  'lemon',
  'carrot',
  'broccoli',
  'pizza',
  'doughnut',
  'cake',
  'croissant',
];

const CATEGORIES = new Set(['Animals & Nature', 'Food & Drink', 'Travel & Places', 'Objects', 'Activities']);

const require = createRequire(import.meta.url);

function emojiDir(): string {
  return join(dirname(require.resolve('emoji-datasource-twitter/package.json')), 'img', 'twitter', '64');
}

interface RawEmoji {
  short_name: string;
  image: string;
  category: string;
  has_img_twitter: boolean;
}

/** Every usable concept (one per emoji, flags/people/symbols excluded), held-out ones included. */
export function listConcepts(): EmojiConcept[] {
  const raw = require('emoji-datasource-twitter/emoji.json') as RawEmoji[];
  const seen = new Set<string>();
  const out: EmojiConcept[] = [];
  for (const e of raw) {
    if (!e.has_img_twitter || !CATEGORIES.has(e.category)) continue;
    const name = e.short_name.replace(/_/g, ' ');
    if (seen.has(name) || /\d/.test(name)) continue;
    seen.add(name);
    out.push({ name, file: e.image, category: e.category });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface Sprite {
  size: number;
  /** RGBA, premultiplied by nothing: straight alpha. */
  rgba: Uint8Array;
}

export async function loadSprite(concept: EmojiConcept): Promise<Sprite> {
  const { data, info } = await sharp(join(emojiDir(), concept.file)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== info.height) throw new Error(`${concept.file}: not square`);
  return { size: info.width, rgba: new Uint8Array(data) };
}

export async function loadSprites(concepts: readonly EmojiConcept[]): Promise<Map<string, Sprite>> {
  const out = new Map<string, Sprite>();
  for (const c of concepts) out.set(c.name, await loadSprite(c));
  return out;
}

/** Bilinear sample of the sprite at (u, v) in sprite pixels, returning straight RGBA. */
function sample(s: Sprite, u: number, v: number, out: Float32Array): void {
  const n = s.size;
  const x0 = Math.max(0, Math.min(n - 1, Math.floor(u)));
  const y0 = Math.max(0, Math.min(n - 1, Math.floor(v)));
  const x1 = Math.min(n - 1, x0 + 1);
  const y1 = Math.min(n - 1, y0 + 1);
  const fx = Math.max(0, Math.min(1, u - x0));
  const fy = Math.max(0, Math.min(1, v - y0));
  out.fill(0);
  const taps: [number, number, number][] = [
    [x0, y0, (1 - fx) * (1 - fy)],
    [x1, y0, fx * (1 - fy)],
    [x0, y1, (1 - fx) * fy],
    [x1, y1, fx * fy],
  ];
  // Weight colour by alpha so transparent texels do not bleed their (arbitrary) colour into edges.
  for (const [x, y, w] of taps) {
    const i = (y * n + x) * 4;
    const a = (s.rgba[i + 3]! / 255) * w;
    out[0]! += s.rgba[i]! * a;
    out[1]! += s.rgba[i + 1]! * a;
    out[2]! += s.rgba[i + 2]! * a;
    out[3]! += a;
  }
}

export interface Placement {
  concept: string;
  /** Centre in [0, 1] image coordinates and size as a fraction of the image width. */
  cx: number;
  cy: number;
  size: number;
}

export interface SceneSpec {
  background: string;
  objects: Placement[];
}

export function renderScene(spec: SceneSpec, sprites: ReadonlyMap<string, Sprite>, width: number, height: number): RgbImage {
  const bg = COLORS[spec.background];
  if (!bg) throw new Error(`unknown colour ${spec.background}`);
  const data = new Uint8Array(width * height * 3);
  const acc = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) acc.set(bg, i * 3);
  const texel = new Float32Array(4);
  for (const o of spec.objects) {
    const s = sprites.get(o.concept);
    if (!s) throw new Error(`no sprite for ${o.concept}`);
    const side = o.size * width;
    const left = o.cx * width - side / 2;
    const top = o.cy * height - side / 2;
    const scale = s.size / side;
    for (let y = Math.max(0, Math.floor(top)); y < Math.min(height, Math.ceil(top + side)); y++) {
      for (let x = Math.max(0, Math.floor(left)); x < Math.min(width, Math.ceil(left + side)); x++) {
        sample(s, (x + 0.5 - left) * scale - 0.5, (y + 0.5 - top) * scale - 0.5, texel);
        const a = texel[3]!;
        if (a <= 0) continue;
        const i = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) acc[i + c] = acc[i + c]! * (1 - a) + texel[c]!;
      }
    }
  }
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(acc[i]!)));
  return { width, height, data };
}

const POSITIONS: Record<string, [number, number]> = {
  'on the left': [0.28, 0.5],
  'on the right': [0.72, 0.5],
  'at the top': [0.5, 0.28],
  'at the bottom': [0.5, 0.72],
};

/** Sizes (fractions of the width) of a single centred object: min + span·u, u uniform in [0, 1). */
export const CENTRED_SIZE = { min: 0.55, span: 0.3 } as const;

/**
 * A scene whose layout the caption does not say: one or two objects anywhere, at any size, captioned
 * as if centred ("a cat on a red background"). The structural variants train on these so that the
 * condition image, not the caption, is what places the objects.
 */
export function freeLayoutScene(rng: Rng, concepts: readonly string[], captionDropout = 0): { spec: SceneSpec; caption: string } {
  const colors = Object.keys(COLORS);
  const background = colors[rng.int(colors.length)]!;
  const pick = () => concepts[rng.int(concepts.length)]!;
  const place = (concept: string, min: number, span: number) => {
    const size = min + span * rng.uniform();
    const margin = size / 2 - 0.08;
    return { concept, cx: margin + (1 - 2 * margin) * rng.uniform(), cy: margin + (1 - 2 * margin) * rng.uniform(), size };
  };
  let spec: SceneSpec;
  let caption: string;
  if (rng.uniform() < 0.65) {
    const name = pick();
    spec = { background, objects: [place(name, 0.3, 0.45)] };
    caption = centredCaption(name, background);
  } else {
    const a = pick();
    let b = pick();
    while (b === a && concepts.length > 1) b = pick();
    spec = { background, objects: [place(a, 0.25, 0.25), place(b, 0.25, 0.25)] };
    caption = `${article(a)} ${a} and ${article(b)} ${b} on a ${background} background`;
  }
  if (captionDropout > 0 && rng.uniform() < captionDropout) caption = '';
  return { spec, caption };
}

/** A random scene and its caption. `captionDropout` yields empty captions for classifier-free guidance. */
export function randomScene(rng: Rng, concepts: readonly string[], captionDropout = 0): { spec: SceneSpec; caption: string } {
  const colors = Object.keys(COLORS);
  const background = colors[rng.int(colors.length)]!;
  const pick = () => concepts[rng.int(concepts.length)]!;
  let spec: SceneSpec;
  let caption: string;
  const r = rng.uniform();
  if (r < 0.55) {
    const name = pick();
    const size = CENTRED_SIZE.min + CENTRED_SIZE.span * rng.uniform();
    spec = { background, objects: [{ concept: name, cx: 0.5, cy: 0.5, size }] };
    caption = centredCaption(name, background);
  } else if (r < 0.8) {
    const name = pick();
    const positions = Object.keys(POSITIONS);
    const where = positions[rng.int(positions.length)]!;
    const [cx, cy] = POSITIONS[where]!;
    spec = { background, objects: [{ concept: name, cx, cy, size: 0.4 + 0.1 * rng.uniform() }] };
    caption = objectCaption(name, background, where);
  } else {
    const a = pick();
    let b = pick();
    while (b === a && concepts.length > 1) b = pick();
    const size = 0.38 + 0.08 * rng.uniform();
    spec = {
      background,
      objects: [
        { concept: a, cx: 0.28, cy: 0.5, size },
        { concept: b, cx: 0.72, cy: 0.5, size },
      ],
    };
    caption = `${article(a)} ${a} and ${article(b)} ${b} on a ${background} background`;
  }
  if (captionDropout > 0 && rng.uniform() < captionDropout) caption = '';
  return { spec, caption };
}

/**
 * A scene of one procedural shape (shapes.ts), centred at a random size or at a named place, on a
 * background of none of its own colours (`avoid`), so that its outline is always visible.
 */
export function shapeScene(
  rng: Rng,
  shapes: readonly string[],
  avoid: (name: string) => readonly string[],
  captionDropout = 0,
): { spec: SceneSpec; caption: string } {
  const name = shapes[rng.int(shapes.length)]!;
  const banned = avoid(name);
  const colors = Object.keys(COLORS).filter((c) => !banned.includes(c));
  const background = colors[rng.int(colors.length)]!;
  let spec: SceneSpec;
  let caption: string;
  if (rng.uniform() < 0.6) {
    const size = 0.35 + 0.5 * rng.uniform();
    spec = { background, objects: [{ concept: name, cx: 0.5, cy: 0.5, size }] };
    caption = centredCaption(name, background);
  } else {
    const positions = Object.keys(POSITIONS);
    const where = positions[rng.int(positions.length)]!;
    const [cx, cy] = POSITIONS[where]!;
    spec = { background, objects: [{ concept: name, cx, cy, size: 0.4 + 0.1 * rng.uniform() }] };
    caption = objectCaption(name, background, where);
  }
  if (captionDropout > 0 && rng.uniform() < captionDropout) caption = '';
  return { spec, caption };
}
