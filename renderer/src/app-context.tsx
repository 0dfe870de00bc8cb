import { createContext, useCallback, useContext, useEffect, useMemo, useState, type Dispatch, type ReactNode, type SetStateAction } from 'react';
import type { ApiValuation, AppInfo } from '../../core/contract/contract.js';
import { api } from './api-client.js';
import { moneyFormatter, type MoneyFormatter } from './format.js';
import { JobStore } from './jobs/job-store.js';

export type ScreenId = 'value' | 'batch' | 'data' | 'models' | 'train' | 'monitoring' | 'market' | 'sync' | 'settings';

/** The valuation screen's form and last result, kept while the user visits other screens (not across reloads). */
export interface ValuationDraft {
  /** The dataset whose form the values belong to; a draft for another dataset is not reused. */
  datasetId: string;
  /** Field name → the text in the field. */
  values: Record<string, string>;
  valuationDate: string;
  result: ApiValuation | null;
}

/** What every screen shares. Read it with `useApp()`. */
export interface AppContextValue {
  /** Workspace, champion and the active valuation form; null until the first `app.info` answers. */
  info: AppInfo | null;
  /** Why the last `app.info` failed; null once one succeeds. */
  infoError: unknown;
  /** Reads `app.info` again: after promoting a model or changing the datasets. Never rejects. */
  refreshInfo: () => Promise<void>;
  screen: ScreenId;
  go: (screen: ScreenId) => void;
  /** Long work (imports, training, batches), kept here so it outlives the screen that started it. */
  jobs: JobStore;
  valuationDraft: ValuationDraft | null;
  setValuationDraft: Dispatch<SetStateAction<ValuationDraft | null>>;
}

const AppContext = createContext<AppContextValue | null>(null);

/**
 * Owns the app-wide state: app info, the current screen, the job store (connected for the provider's lifetime)
 * and what a screen keeps while it is not shown. Finished jobs change the workspace, so each one that ends
 * `done` refreshes the app info.
 */
export function AppProvider({ children, initialScreen = 'value' }: { children: ReactNode; initialScreen?: ScreenId }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [infoError, setInfoError] = useState<unknown>(null);
  const [screen, setScreen] = useState<ScreenId>(initialScreen);
  const [jobs] = useState(() => new JobStore(api));
  const [valuationDraft, setValuationDraft] = useState<ValuationDraft | null>(null);

  const refreshInfo = useCallback(async () => {
    try {
      setInfo(await api.call('app.info', {}));
      setInfoError(null);
    } catch (e) {
      setInfoError(e);
    }
  }, []);

  useEffect(() => {
    void refreshInfo();
  }, [refreshInfo]);
  useEffect(() => jobs.connect(), [jobs]);
  useEffect(
    () =>
      jobs.onFinished((_method, job) => {
        if (job.state === 'done') void refreshInfo();
      }),
    [jobs, refreshInfo],
  );

  const value = useMemo<AppContextValue>(
    () => ({ info, infoError, refreshInfo, screen, go: setScreen, jobs, valuationDraft, setValuationDraft }),
    [info, infoError, refreshInfo, screen, jobs, valuationDraft],
  );
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}

/** The app context; only inside `<AppProvider>`. */
export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp() is used outside <AppProvider>');
  return ctx;
}

/** Formats prices in the active dataset's currency (USD until a form is known). */
export function useMoney(): MoneyFormatter {
  return moneyFormatter(useApp().info?.form?.target.currency);
}
