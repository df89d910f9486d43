/** A failure that retrying cannot fix (bad input, finetune deleted): the task goes straight to Error. */
export class PermanentJobError extends Error {}

/** The job was cancelled (its finetune deleted) or its lease lost: stop quietly, write nothing more. */
export class JobAbandoned extends Error {}
