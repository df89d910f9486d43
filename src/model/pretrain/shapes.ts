// Procedural shape sprites for pretraining: geometric figures with a fill pattern in named colours
// ("a red striped star", "a blue dotted heart", "a teal and white cross"). The emoji scenes taught
// flux-mini only the Twemoji drawing style, so a finetune on anything else (a logo, a product) had no
// crisp outline or pattern to start from (issue 10). These add hard edges, outlines and regular
// patterns with compositional captions.
// The novel-concept suite (src/model/eval/novel-concepts.ts) must stay out of pretraining: none of its
// nouns is a shape here (shield, orb, badge, cube, crescent, banner, nut, chevron, kite, ring), and no
// pattern here is one of its designs (concentric rings, checkers, zigzags, chevrons, holes, petals).
// test/model/pretrain-shapes.test.ts checks both.

import { COLORS } from '../flux-mini/caption-vocabulary.ts';
import type { Sprite } from './scenes.ts';

type Inside = (u: number, v: number) => boolean;

function polygon(n: number, radius: number, rotation: number): Inside {
  const pts = Array.from({ length: n }, (_, i) => {
    const a = rotation + (2 * Math.PI * i) / n;
    return [radius * Math.cos(a), radius * Math.sin(a)] as const;
  });
  return (u, v) => pointInPolygon(pts, u, v);
}

function pointInPolygon(pts: readonly (readonly [number, number])[], u: number, v: number): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i]!;
    const [xj, yj] = pts[j]!;
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const UP = -Math.PI / 2;
const starPoints = Array.from({ length: 10 }, (_, i) => {
  const a = UP + (Math.PI * i) / 5;
  const r = i % 2 === 0 ? 0.95 : 0.4;
  return [r * Math.cos(a), r * Math.sin(a) + 0.06] as const;
});

/** Figures in the sprite's frame [-1, 1]² (v points down, as image rows do). */
export const SHAPES: Record<string, Inside> = {
  circle: (u, v) => u * u + v * v < 0.85 * 0.85,
  square: (u, v) => Math.abs(u) < 0.75 && Math.abs(v) < 0.75,
  triangle: (u, v) => v < 0.7 && v > -0.85 && Math.abs(u) < ((v + 0.85) / 1.55) * 0.9,
  star: (u, v) => pointInPolygon(starPoints, u, v),
  cross: (u, v) => (Math.abs(u) < 0.28 && Math.abs(v) < 0.85) || (Math.abs(v) < 0.28 && Math.abs(u) < 0.85),
  heart: (u, v) => {
    const x = u / 0.7;
    const y = -(v - 0.1) / 0.7;
    return (x * x + y * y - 1) ** 3 - x * x * y * y * y < 0;
  },
  arrow: (u, v) => (Math.abs(v) < 0.25 && u > -0.85 && u < 0.2) || (u >= 0.1 && u < 0.9 && Math.abs(v) < (0.9 - u) * 1.0),
  pentagon: polygon(5, 0.88, UP),
};

/**
 * The fill colours (caption-vocabulary names, drawn in COLORS' values) and, per colour, the second
 * colour of its pattern: white on dark fills, black on light ones.
 */
const SECOND: Record<string, 'white' | 'black'> = {
  red: 'white',
  orange: 'black',
  yellow: 'black',
  green: 'white',
  blue: 'white',
  purple: 'white',
  pink: 'black',
  teal: 'white',
};
export const SHAPE_COLORS: readonly string[] = Object.keys(SECOND);

export const PATTERNS = ['plain', 'striped', 'dotted', 'outlined', 'two-tone'] as const;
export type Pattern = (typeof PATTERNS)[number];

export interface ShapeSpec {
  shape: string;
  color: string;
  pattern: Pattern;
}

/** The caption words of a shape sprite: "red star", "red striped star", "red and white star". */
export function shapeName(s: ShapeSpec): string {
  const second = SECOND[s.color]!;
  switch (s.pattern) {
    case 'plain':
      return `${s.color} ${s.shape}`;
    case 'two-tone':
      return `${s.color} and ${second} ${s.shape}`;
    default:
      return `${s.color} ${s.pattern} ${s.shape}`;
  }
}

/** Every shape × colour × pattern: 8 × 8 × 5 = 320 specs. */
export function listShapes(): ShapeSpec[] {
  const out: ShapeSpec[] = [];
  for (const shape of Object.keys(SHAPES)) for (const color of SHAPE_COLORS) for (const pattern of PATTERNS) out.push({ shape, color, pattern });
  return out;
}

/** The colours a shape's pixels take: a scene must not put it on a background of either. */
export function shapeColours(s: ShapeSpec): string[] {
  return s.pattern === 'plain' ? [s.color] : [s.color, s.pattern === 'outlined' ? 'black' : SECOND[s.color]!];
}

const OUTLINE = 0.13;
const RING = Array.from({ length: 12 }, (_, i) => [Math.cos((Math.PI * i) / 6) * OUTLINE, Math.sin((Math.PI * i) / 6) * OUTLINE] as const);

/** Which colour (0 = fill, 1 = second) the pattern paints at (u, v) inside the figure. */
function patternAt(p: Pattern, inside: Inside, u: number, v: number): 0 | 1 {
  switch (p) {
    case 'plain':
      return 0;
    case 'striped':
      return Math.floor((v + 1) * 4) % 2 === 1 ? 1 : 0;
    case 'dotted': {
      const g = 0.42;
      const du = u - g * Math.round(u / g);
      const dv = v - g * Math.round(v / g);
      return du * du + dv * dv < 0.11 * 0.11 ? 1 : 0;
    }
    case 'outlined':
      return RING.some(([a, b]) => !inside(u + a, v + b)) ? 1 : 0;
    case 'two-tone':
      return u < 0 ? 0 : 1;
  }
}

/** The sprite (straight RGBA, `size`², 4×4 supersampled edges) of one shape spec. */
export function renderShape(s: ShapeSpec, size = 128): Sprite {
  const inside = SHAPES[s.shape];
  if (!inside) throw new Error(`unknown shape ${s.shape}`);
  const fill = COLORS[s.color]!;
  const second = COLORS[s.pattern === 'outlined' ? 'black' : SECOND[s.color]!]!;
  const rgba = new Uint8Array(size * size * 4);
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const u = ((x + (sx + 0.5) / n) / size) * 2 - 1;
          const v = ((y + (sy + 0.5) / n) / size) * 2 - 1;
          if (!inside(u, v)) continue;
          const c = patternAt(s.pattern, inside, u, v) === 0 ? fill : second;
          r += c[0];
          g += c[1];
          b += c[2];
          a++;
        }
      }
      const i = (y * size + x) * 4;
      if (a > 0) {
        rgba[i] = Math.round(r / a);
        rgba[i + 1] = Math.round(g / a);
        rgba[i + 2] = Math.round(b / a);
        rgba[i + 3] = Math.round((a / (n * n)) * 255);
      }
    }
  }
  return { size, rgba };
}

/** Every shape sprite keyed by its caption words. */
export function shapeSprites(size = 128): { sprites: Map<string, Sprite>; specs: Map<string, ShapeSpec> } {
  const sprites = new Map<string, Sprite>();
  const specs = new Map<string, ShapeSpec>();
  for (const s of listShapes()) {
    const name = shapeName(s);
    sprites.set(name, renderShape(s, size));
    specs.set(name, s);
  }
  return { sprites, specs };
}
