// BFL's `get_schedule`: N+1 times from 1 to 0, shifted toward 1 (noise) by e^μ with μ linear in
// the image token count — larger images spend more steps at high noise.

import { shiftMu, timeShift } from '../train/flow.ts';

export interface ScheduleOptions {
  /** μ at 256 image tokens. */
  baseShift?: number;
  /** μ at 4096 image tokens. */
  maxShift?: number;
  /** false for schnell-style models: plain linear times. */
  shift?: boolean;
}

/** `imageSeqLen` counts packed image tokens only (not text, not reference tokens). */
export function getSchedule(numSteps: number, imageSeqLen: number, o: ScheduleOptions = {}): number[] {
  if (!Number.isInteger(numSteps) || numSteps < 1) throw new Error(`getSchedule: numSteps must be a positive integer, got ${numSteps}`);
  const ts = Array.from({ length: numSteps + 1 }, (_, k) => 1 - k / numSteps);
  if (o.shift === false) return ts;
  const mu = shiftMu(imageSeqLen, o.baseShift ?? 0.5, o.maxShift ?? 1.15);
  return ts.map((t) => timeShift(mu, t));
}
