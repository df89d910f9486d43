// One optimisation step, shared by pretraining and finetuning. The training graph's outputs are the
// MSE loss of a prediction against a fed target and `grad.<key>` for every trainable tensor; a step
// feeds a batch, its target and the current parameters, runs forward and backward in one ONNX
// Runtime call, and applies AdamW to the parameters in place.

import type { AdamW, WeightEma } from '../../engine/adamw.ts';
import { grad } from '../../engine/autodiff.ts';
import type { Value } from '../../engine/graph.ts';
import * as F from '../../engine/ops.ts';
import { type Feeds, type Results, Session, type SessionOptions } from '../../engine/session.ts';

const TARGET_INPUT = 'target';
export const LOSS_OUTPUT = 'loss';
export const gradOutput = (key: string) => `grad.${key}`;

export interface TrainingOutputs {
  /** The fed regression target, shaped like the prediction. */
  target: Value;
  loss: Value;
  /** For Session.create: the loss and, per trainable tensor, its gradient as `grad.<key>`. */
  outputs: Record<string, Value>;
}

/** Appends the loss against a fed target and its gradient for every trainable tensor to the prediction's graph. */
export function trainingOutputs(prediction: Value, trainable: ReadonlyMap<string, Value>): TrainingOutputs {
  const target = prediction.graph.input(TARGET_INPUT, prediction.shape, prediction.dtype);
  const loss = F.mseLoss(prediction, target);
  const grads = grad(loss, [...trainable.values()]);
  const outputs: Record<string, Value> = { [LOSS_OUTPUT]: loss };
  [...trainable.keys()].forEach((k, i) => {
    outputs[gradOutput(k)] = grads[i]!;
  });
  return { target, loss, outputs };
}

export interface StepUpdate {
  lr: number;
  ema?: WeightEma;
  /** The error to throw for a non-finite loss; the parameters are then left as they were. */
  diverged: (loss: number) => Error;
}

export interface StepResult {
  loss: number;
  /** Wall time of the forward + backward run and of the AdamW update. */
  runMs: number;
  updateMs: number;
}

/** A compiled training graph. The optimiser is passed per step: one AdamW serves every resolution's graph. */
export class TrainingStep {
  private constructor(private readonly session: Session) {}

  static async create(outputs: Record<string, Value>, options: Omit<SessionOptions, 'outputs'> = {}): Promise<TrainingStep> {
    return new TrainingStep(await Session.create({ ...options, outputs }));
  }

  /** `batch` is every fed input except the target and the optimiser's parameters, which the step adds. */
  async run(optimizer: AdamW, batch: Feeds, target: Float32Array, update: StepUpdate): Promise<StepResult> {
    const t0 = performance.now();
    const results = await this.session.run({ ...batch, ...Object.fromEntries(optimizer.params), [TARGET_INPUT]: target }, undefined, gradientSlots(optimizer));
    const loss = Number(results[LOSS_OUTPUT]![0]);
    if (!Number.isFinite(loss)) throw update.diverged(loss);
    const grads = gradientsOf(results, optimizer.params.keys());
    const t1 = performance.now();
    optimizer.step(grads, update.lr, update.ema);
    return { loss, runMs: t1 - t0, updateMs: performance.now() - t1 };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The optimiser's own gradient buffers as the graph's `grad.*` outputs (ORT writes them there: no copies), if it has them. */
function gradientSlots(optimizer: AdamW): Record<string, Float32Array> | undefined {
  const buffers = optimizer.gradientBuffers;
  return buffers && Object.fromEntries([...buffers].map(([k, g]) => [gradOutput(k), g]));
}

function gradientsOf(results: Results, keys: Iterable<string>): Record<string, Float32Array> {
  const grads: Record<string, Float32Array> = {};
  for (const k of keys) grads[k] = results[gradOutput(k)] as Float32Array;
  return grads;
}
