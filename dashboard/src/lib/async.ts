// Loading data for a view: the previous data stays on screen while a new query runs (no
// flashing on a filter click), and an answer that arrives after a newer request is dropped.
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Bumped when `data` is replaced: what a view's "ready" mark waits for. */
  version: number;
}

export function useAsync<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true, version: 0 });
  const latest = useRef(0);
  useEffect(() => {
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (ticket === latest.current) setState((s) => ({ data, error: undefined, loading: false, version: s.version + 1 }));
      },
      (error: Error) => {
        if (ticket === latest.current) setState((s) => ({ data: undefined, error, loading: false, version: s.version + 1 }));
      },
    );
  }, [key]);
  return state;
}

/** A value kept in localStorage (a card's chosen tab), per key. */
export function useStored<T extends string>(key: string, fallback: T, allowed: readonly T[]): [T, (v: T) => void] {
  const read = (): T => {
    try {
      const v = localStorage.getItem(key) as T | null;
      return v && allowed.includes(v) ? v : fallback;
    } catch {
      return fallback;
    }
  };
  const [value, setValue] = useState<T>(read);
  const set = (v: T) => {
    setValue(v);
    try {
      localStorage.setItem(key, v);
    } catch {
      /* private mode: the choice lasts for this page only */
    }
  };
  return [value, set];
}
