import { go } from './hooks.ts';

const RERUN_KEY = 'fluxtune-rerun';

/** A past generation's endpoint and parameters, handed to the generate panel (which fills its form from them). */
export function rerun(endpoint: string, params: Record<string, unknown>): void {
  sessionStorage.setItem(RERUN_KEY, JSON.stringify({ endpoint, params }));
  go(`/generate?rerun=${Date.now()}`);
}

export function takeRerun(): { endpoint: string; params: Record<string, unknown> } | null {
  const raw = sessionStorage.getItem(RERUN_KEY);
  sessionStorage.removeItem(RERUN_KEY);
  return raw ? JSON.parse(raw) : null;
}
