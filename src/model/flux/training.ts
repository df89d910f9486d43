// The training graph: the FLUX forward, an MSE loss against a fed velocity target, and the
// gradient of the loss for every trainable tensor (base weights for full finetunes, LoRA
// factors for LoRA finetunes). Everything not trainable is meant to be frozen into the session.

import type { TypedArray } from '../../engine/dtype.ts';
import type { Value } from '../../engine/graph.ts';
import { gradOutput, LOSS_OUTPUT, trainingOutputs } from '../train/step.ts';
import { type BuildOptions, buildFluxGraph, type FluxGraph, type FluxShape } from './build.ts';
import type { FluxParams } from './config.ts';

export interface TrainingOptions extends BuildOptions {
  /** Which tensors (base keys or LoRA keys) get gradients; defaults to all LoRA tensors if any, else all weights. */
  trainable?: (key: string) => boolean;
  /** Also output the prediction as `out`. */
  withOutput?: boolean;
}

export interface FluxTrainingGraph {
  flux: FluxGraph;
  target: Value;
  loss: Value;
  /** Trainable tensors by key; their gradients are the outputs `grad.<key>`. */
  trainable: Map<string, Value>;
  /** Outputs for Session.create: loss, grads (and out). */
  outputs: Record<string, Value>;
}

export function buildFluxTrainingGraph(params: FluxParams, shape: FluxShape, opts: TrainingOptions = {}): FluxTrainingGraph {
  const flux = buildFluxGraph(params, shape, opts);
  const { store } = flux;
  const select = opts.trainable ?? (store.loraParams.size ? (k: string) => store.loraParams.has(k) : () => true);
  const trainable = new Map([...store.params, ...store.loraParams].filter(([k]) => select(k)));
  const { target, loss, outputs } = trainingOutputs(flux.out, trainable);
  if (opts.withOutput) outputs.out = flux.out;
  return { flux, target, loss, trainable, outputs };
}

/** Splits a training run's results into the loss and the gradients by key. */
export function readGradients(tg: FluxTrainingGraph, results: Record<string, TypedArray>): { loss: number; grads: Map<string, TypedArray> } {
  const grads = new Map<string, TypedArray>();
  for (const k of tg.trainable.keys()) grads.set(k, results[gradOutput(k)]!);
  return { loss: Number(results[LOSS_OUTPUT]![0]), grads };
}
