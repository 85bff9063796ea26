// Small hooks the pages share: re-render on a model's change, the current path, and polling.
import { useEffect, useState } from 'preact/hooks';
import { ROOT } from './api';

export function useModel(model: { subscribe(listener: () => void): () => void }): void {
  const [, setTick] = useState(0);
  useEffect(() => model.subscribe(() => setTick((t) => t + 1)), [model]);
}

/** Where the pages are, below the server's root as this page reached it. */
export const BASE = `${ROOT}dashboard/`;

export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The path below /dashboard/, such as `requests/1a2b...`. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return path.startsWith(BASE) ? path.slice(BASE.length) : '';
}

/** Calls `load` now and every `ms` while the page is shown; returns its last value or error. */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []): { value?: T; error?: string } {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    let stopped = false;
    const tick = () =>
      load().then(
        (value) => !stopped && setState({ value }),
        (err: Error) => !stopped && setState((s) => ({ ...s, error: err.message })),
      );
    void tick();
    const timer = setInterval(tick, ms);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, deps);
  return state;
}

/** Re-renders every `ms`, for relative times. */
export function useClock(ms = 10_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
