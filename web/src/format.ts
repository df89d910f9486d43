export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export const percent = (p: number | null | undefined) => `${Math.round((p ?? 0) * 100)}%`;

export const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const PHASE_LABEL: Record<string, string> = {
  queued: 'Queued',
  captioning: 'Captioning',
  training: 'Training',
  saving: 'Saving the LoRA',
  ready: 'Ready',
  failed: 'Failed',
};
