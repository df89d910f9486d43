import { useEffect, useRef, useState } from 'preact/hooks';

/** The part of the URL after '#', kept in state: the dashboard's pages are #/…, so Back works. */
export function useHashRoute(): string {
  const [route, setRoute] = useState(() => location.hash.slice(1) || '/');
  useEffect(() => {
    const on = () => setRoute(location.hash.slice(1) || '/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const go = (route: string) => {
  location.hash = route;
};

/**
 * Calls load now and every `everyMs` while `active` (not at all otherwise); the latest answer (or error) is kept.
 * A slow answer never overtakes a newer one, and nothing is set after unmount. stop() ends it at once, the
 * request in flight included (aborted): what follows (a delete) is never raced by a poll of the same thing.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, everyMs: number, deps: unknown[], active = true) {
  const [state, setState] = useState<{ value?: T; error?: Error }>({});
  const loadRef = useRef(load);
  loadRef.current = load;
  const stopRef = useRef<() => void>(() => {});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ctrl = new AbortController();
    const run = async () => {
      try {
        const value = await loadRef.current(ctrl.signal);
        if (live) setState({ value });
      } catch (error) {
        if (live) setState((s) => ({ value: s.value, error: error as Error }));
      }
      if (live && active) timer = setTimeout(run, everyMs);
    };
    stopRef.current = () => {
      live = false;
      clearTimeout(timer);
      ctrl.abort();
    };
    if (active) run();
    return () => stopRef.current();
  }, [...deps, active, tick]);
  return { ...state, refresh: () => setTick((t) => t + 1), stop: () => stopRef.current() };
}
