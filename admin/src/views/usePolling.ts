import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  updatedAt: Date | undefined;
  refresh: () => void;
}

/** Loads now, then every `intervalMs` while the page is visible; `refresh()` loads at once. */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number, deps: readonly unknown[]): Polled<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [updatedAt, setUpdatedAt] = useState<Date | undefined>();
  const generation = useRef(0);

  const refresh = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    load()
      .then(
        (value) => {
          if (mine !== generation.current) return;
          setData(value);
          setError(undefined);
          setUpdatedAt(new Date());
        },
        (e: unknown) => {
          if (mine === generation.current) setError(e instanceof Error ? e.message : String(e));
        },
      )
      .finally(() => {
        if (mine === generation.current) setLoading(false);
      });
  }, deps);

  useEffect(() => {
    refresh();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, intervalMs);
    return () => {
      clearInterval(timer);
      generation.current++;
    };
  }, [refresh, intervalMs]);

  return { data, error, loading, updatedAt, refresh };
}
