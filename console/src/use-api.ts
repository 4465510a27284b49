// Data of a page: fetched on mount and again every `everyMs` while the page is shown (polling keeps runs live).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, type ApiError } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  reload: () => Promise<void>;
}

export function useApi<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const current = useRef(load);
  current.current = load;
  const reload = useCallback(async () => {
    try {
      setData(await current.current());
      setError(undefined);
    } catch (caught) {
      setError(asApiError(caught));
    }
  }, []);
  useEffect(() => {
    setData(undefined);
    setError(undefined);
    void reload();
    if (!everyMs) return undefined;
    const timer = setInterval(() => void reload(), everyMs);
    return () => clearInterval(timer);
  }, deps);
  return { data, error, reload };
}
