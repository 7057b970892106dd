// Small React hooks shared by the views: the hash route, a ticking clock for "3 min ago",
// and loading data once or on an interval with error and retry.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { parseRoute, routeHref, type Route } from './logic/routes';

function subscribeHash(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribeHash, () => location.hash);
  return parseRoute(hash);
}

export function navigate(route: Route): void {
  location.hash = routeHref(route);
}

export function useNow(intervalMs = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  /** When the data last arrived. */
  at: number | null;
  reload(): void;
}

/**
 * Runs `load` when `key` changes (starting blank) and again, keeping what is shown, when
 * `refresh` changes and every `intervalMs` (never two at once). A refresh never blanks the page
 * nor unmounts what is on it.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  intervalMs?: number,
  refresh?: string | number,
): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean; at: number | null }>({
    data: null,
    error: null,
    loading: true,
    at: null,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    setState((s) => ({ ...s, data: null, loading: true, error: null }));
  }, [key]);

  useEffect(() => {
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let cancelled = false;
    const run = async () => {
      controller = new AbortController();
      setState((s) => ({ ...s, loading: true }));
      try {
        const data = await loadRef.current(controller.signal);
        if (!cancelled) setState({ data, error: null, loading: false, at: Date.now() });
      } catch (error) {
        if (cancelled || (error instanceof DOMException && error.name === 'AbortError')) return;
        setState((s) => ({ ...s, error, loading: false }));
      }
      if (!cancelled && intervalMs) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      cancelled = true;
      controller?.abort();
      if (timer) clearTimeout(timer);
    };
  }, [key, intervalMs, generation, refresh]);

  return { ...state, reload };
}
