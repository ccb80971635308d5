import { useState } from 'preact/hooks';

export interface Action {
  busy: boolean;
  error: string | undefined;
  /** Runs `work` (one at a time); its error is kept for the view to show. Resolves true when it succeeded. */
  run(work: () => Promise<unknown>): Promise<boolean>;
}

/** A button's request: busy while it runs, its error kept. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async (work: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}
