import type { trainingPhases } from '../../api/finetune-schemas.ts';
import type { UrlSigner } from '../signed-urls.ts';
import type { FinetuneWithStatus, LossPoint } from './finetune-store.ts';

type Phase = (typeof trainingPhases)[number];

export interface TrainingView {
  phase: Phase;
  step: number;
  total_steps: number;
  loss: [number, number][];
  eta_seconds: number | null;
  previews: { step: number; url: string }[];
}

/** The steps an ETA is measured over: recent enough to follow a change of pace, enough to smooth a preview's pause. */
const ETA_WINDOW_STEPS = 20;

/** finetune_details.training: the phase from the task and its job, the loss curve, an ETA and signed preview URLs. */
export function renderTraining(ft: FinetuneWithStatus, signer: UrlSigner, baseUrl: string, nowMs = Date.now()): TrainingView {
  const points = lastPerStep(ft.loss_log);
  const step = points.at(-1)?.[0] ?? 0;
  const phase = phaseOf(ft, step);
  const previews = new Map(ft.previews.map((p) => [p.step, p]));
  return {
    phase,
    step: phase === 'ready' ? ft.iterations : step,
    total_steps: ft.iterations,
    loss: points.map(([s, l]) => [s, l]),
    eta_seconds: phase === 'training' ? etaSeconds(points, ft.iterations, nowMs) : null,
    previews: [...previews.keys()].sort((a, b) => a - b).map((s) => ({ step: s, url: signer.sign(baseUrl, 'preview', ft.id, nowMs, s) })),
  };
}

function phaseOf(ft: FinetuneWithStatus, step: number): Phase {
  if (ft.status === 'Ready') return 'ready';
  if (ft.status !== 'Pending') return 'failed';
  if (ft.job_state !== 'running') return 'queued';
  // The worker names its phase (tasks.phase); rows written before it did are read from the captions and steps.
  if (ft.phase === 'extracting' || ft.phase === 'saving' || ft.phase === 'captioning') return ft.phase;
  if (ft.captions === null) return 'captioning';
  return step >= ft.iterations ? (ft.finetune_type === 'full' ? 'extracting' : 'saving') : 'training';
}

/** A resumed run repeats the steps after its checkpoint: the last report of each step wins. */
function lastPerStep(log: LossPoint[]): LossPoint[] {
  const byStep = new Map<number, LossPoint>();
  for (const p of log) byStep.set(p[0], p);
  return [...byStep.values()].sort((a, b) => a[0] - b[0]);
}

/** Seconds per step over the last ETA_WINDOW_STEPS reports, times the steps left; null until two reports exist. */
function etaSeconds(points: LossPoint[], total: number, nowMs: number): number | null {
  const last = points.at(-1);
  const first = points.at(-1 - Math.min(ETA_WINDOW_STEPS, points.length - 1));
  if (!last || !first || last[0] <= first[0] || last[2] <= first[2]) return null;
  const msPerStep = (last[2] - first[2]) / (last[0] - first[0]);
  // Time since the last report already counts against the next step.
  const left = msPerStep * (total - last[0]) - Math.max(0, nowMs - last[2]);
  return Math.max(0, Math.round(left / 1000));
}
