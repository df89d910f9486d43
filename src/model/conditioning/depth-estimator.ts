// The monocular depth estimator the depth control (FLUX.1-Depth style) runs on an input image: the
// small network of depth-network.ts, trained by scripts/train-depth.ts on composed emoji scenes
// whose depth is known exactly (src/model/pretrain/scene-depth.ts), shipped as
// models/flux-mini/depth-estimator.safetensors. Its output follows MiDaS / Depth Anything, which
// FLUX.1 Depth's preprocessor wraps: inverse depth in [0, 1], near = 1 (white).

import { readFileSync } from 'node:fs';
import { Session } from '../../engine/session.ts';
import type { RgbImage } from '../backend.ts';
import { bucketFor, imageToTokens, stretchImage } from '../codec/patches.ts';
import { frozenWeights, unusedWeights } from '../flux/weights.ts';
import { MODEL_DIR } from '../flux-mini/config.ts';
import { readTensors, type Tensors } from '../tensors.ts';
import { depthToImage } from './depth-image.ts';
import { buildDepthGraph, DEPTH_INPUT, DEPTH_NET_CONFIG, type DepthNetConfig, positionFeeds, tokensToDepth } from './depth-network.ts';

export const DEPTH_WEIGHTS_URL = new URL('depth-estimator.safetensors', MODEL_DIR);
/** The safetensors metadata key holding the DepthNetConfig as JSON. */
export const CONFIG_METADATA = 'config';

/** Bilinear resize of a one-channel map, pixel centres aligned (align_corners = false). */
export function resizeDepth(d: Float32Array, width: number, height: number, toWidth: number, toHeight: number): Float32Array {
  if (width === toWidth && height === toHeight) return d;
  const out = new Float32Array(toWidth * toHeight);
  const sx = width / toWidth;
  const sy = height / toHeight;
  for (let y = 0; y < toHeight; y++) {
    const v = Math.max(0, Math.min(height - 1, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(v);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = v - y0;
    for (let x = 0; x < toWidth; x++) {
      const u = Math.max(0, Math.min(width - 1, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(u);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = u - x0;
      const top = d[y0 * width + x0]! * (1 - fx) + d[y0 * width + x1]! * fx;
      const bottom = d[y1 * width + x0]! * (1 - fx) + d[y1 * width + x1]! * fx;
      out[y * toWidth + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

export class DepthEstimator {
  /** One inference session per token grid, built on first use. */
  private readonly sessions = new Map<string, Promise<Session>>();

  private constructor(
    readonly config: DepthNetConfig,
    private readonly weights: Tensors,
    private readonly threads: number | undefined,
    readonly metadata: Record<string, string>,
  ) {}

  /** The shipped estimator (or the weights at `path`). */
  static async load(threads?: number, path: URL | string = DEPTH_WEIGHTS_URL): Promise<DepthEstimator> {
    const { tensors, metadata } = readTensors(readFileSync(path));
    return DepthEstimator.fromWeights(tensors, threads, metadata);
  }

  static fromWeights(weights: Tensors, threads?: number, metadata: Record<string, string> = {}): DepthEstimator {
    const json = metadata[CONFIG_METADATA];
    const config = json ? (JSON.parse(json) as DepthNetConfig) : DEPTH_NET_CONFIG;
    const unused = unusedWeights(buildDepthGraph(config, 1, 16).store.params, weights);
    if (unused.length) throw new Error(`depth estimator: weights the network has no parameter for: ${unused.join(', ')}`);
    return new DepthEstimator(config, weights, threads, metadata);
  }

  private session(rows: number, cols: number): Promise<Session> {
    const key = `${rows}x${cols}`;
    let s = this.sessions.get(key);
    if (!s) {
      const g = buildDepthGraph(this.config, 1, rows * cols);
      s = Session.create({ outputs: { out: g.out }, frozen: frozenWeights(g.store.params, this.weights), threads: this.threads });
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * Inverse depth [height·width] of `img` at its own size, near = 1. The image is resized to the
   * ~`config.tokens`-patch grid closest to its aspect ratio (128 × 128 for a square), estimated
   * there, and the depth resized back bilinearly.
   */
  async estimate(img: RgbImage): Promise<Float32Array> {
    const c = this.config;
    const grid = bucketFor(img.width, img.height, c.tokens, c.patch);
    const w = grid.cols * c.patch;
    const h = grid.rows * c.patch;
    const input = await stretchImage(img, w, h);
    const session = await this.session(grid.rows, grid.cols);
    const res = await session.run({ [DEPTH_INPUT.img]: imageToTokens(input, c.patch), ...positionFeeds(c, grid.rows, grid.cols, 1) });
    const depth = tokensToDepth(res.out as Float32Array, grid.rows, grid.cols, c.patch);
    return resizeDepth(depth, w, h, img.width, img.height);
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }
}

/** The depth of `img` as a grey 3-channel image of its size: the control image FLUX.1 Depth is given. */
export async function depthControlImage(estimator: DepthEstimator, img: RgbImage): Promise<RgbImage> {
  return depthToImage(await estimator.estimate(img), img.width, img.height);
}
