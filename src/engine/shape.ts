// Static shape arithmetic shared by op inference and the VJP rules.

export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const sd = k >= 0 ? s[k]! : 1;
      if (sd === 1) continue;
      if (d !== 1 && d !== sd) {
        throw new Error(`shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`);
      }
      d = sd;
    }
    out.push(d);
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** What a Slice keeps of one axis: `length` elements from `start`. */
export interface SliceWindow {
  axis: number;
  start: number;
  length: number;
}

/**
 * The windows of an ONNX Slice over `shape`, one per sliced axis: negative axes and indices count
 * from the end, and starts/ends are clamped to the axis. Only unit steps are supported.
 */
export function sliceWindows(
  shape: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps: readonly number[] = axes.map(() => 1),
): SliceWindow[] {
  if (starts.length !== axes.length || ends.length !== axes.length || steps.length !== axes.length) {
    throw new Error('starts, ends, axes and steps must have one entry per sliced axis');
  }
  const windows = axes.map((a, i) => {
    const axis = normAxis(a, shape.length);
    if (steps[i] !== 1) throw new Error('only unit steps are supported');
    const d = shape[axis]!;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const start = clamp(starts[i]!);
    return { axis, start, length: Math.max(0, clamp(ends[i]!) - start) };
  });
  if (new Set(windows.map((w) => w.axis)).size !== windows.length) throw new Error('an axis is sliced twice');
  return windows;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Resolves ONNX Reshape's 0 (copy) and -1 (infer) entries against a known input shape. */
export function resolveReshape(input: readonly number[], target: readonly number[]): number[] {
  const total = input.reduce((a, b) => a * b, 1);
  const out = target.map((d, i) => (d === 0 ? input[i]! : d));
  const unknown = out.indexOf(-1);
  const known = out.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (unknown >= 0) {
    if (out.lastIndexOf(-1) !== unknown) throw new Error('more than one -1 in reshape target');
    if (known === 0 || total % known !== 0) throw new Error(`cannot reshape [${input.join(',')}] to [${target.join(',')}]`);
    out[unknown] = total / known;
  }
  if (out.reduce((a, b) => a * b, 1) !== total) {
    throw new Error(`cannot reshape [${input.join(',')}] (${total} elements) to [${target.join(',')}]`);
  }
  return out;
}
