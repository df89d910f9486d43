/** A failure that retrying cannot fix (bad input, finetune deleted): the task goes straight to Error. */
export class PermanentJobError extends Error {}

/** Ours, or the model's InvalidModelInput (known by name: it may come from another thread or process). */
export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentJobError || (err instanceof Error && err.name === 'InvalidModelInput');
}

/** The job was cancelled (its finetune deleted) or its lease lost: stop quietly, write nothing more. */
export class JobAbandoned extends Error {}
