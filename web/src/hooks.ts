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
 * Calls load now and every `everyMs` while `active`; the latest answer (or error) is kept. A slow
 * answer never overtakes a newer one, and nothing is set after unmount.
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[], active = true) {
  const [state, setState] = useState<{ value?: T; error?: Error }>({});
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await loadRef.current();
        if (live) setState({ value });
      } catch (error) {
        if (live) setState((s) => ({ value: s.value, error: error as Error }));
      }
      if (live && active) timer = setTimeout(run, everyMs);
    };
    run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, active, tick]);
  return { ...state, refresh: () => setTick((t) => t + 1) };
}
