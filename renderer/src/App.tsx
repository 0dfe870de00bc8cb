import { useEffect, useRef, useState } from 'react';
import { AppProvider, useApp, type ScreenId } from './app-context.js';
import { ErrorBanner } from './components/ErrorBanner.js';
import { ValueScreen } from './screens/value/ValueScreen.js';
import { BatchScreen } from './screens/BatchScreen.js';
import { DataScreen } from './screens/DataScreen.js';
import { ModelsScreen } from './screens/ModelsScreen.js';
import { TrainScreen } from './screens/TrainScreen.js';
import { MonitoringScreen } from './screens/MonitoringScreen.js';
import { MarketScreen } from './screens/MarketScreen.js';
import { SyncScreen } from './screens/SyncScreen.js';
import { SettingsScreen } from './screens/SettingsScreen.js';
import { shortId } from './format.js';
import { JobsIndicator } from './components/JobsIndicator.js';
import { ProblemsPanel } from './components/ProblemsPanel.js';
import { LockScreen } from './components/LockScreen.js';
import { AlertCountBadge, ALERT_COUNT_DESCRIPTION_ID } from './components/AlertCountBadge.js';

/** The skip link moves focus itself: following `#main` alone scrolls but leaves focus on the link in some shells. */
function skipToMain(e: React.MouseEvent<HTMLAnchorElement>) {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

const SCREENS: { id: ScreenId; label: string }[] = [
  { id: 'value', label: 'Value a property' },
  { id: 'batch', label: 'Batch' },
  { id: 'data', label: 'Data' },
  { id: 'models', label: 'Models' },
  { id: 'train', label: 'Train' },
  { id: 'monitoring', label: 'Monitoring' },
  { id: 'sync', label: 'Sync' },
  // Last, so the Alt+number shortcuts of the screens before it stay as they were.
  { id: 'market', label: 'Market' },
  { id: 'settings', label: 'Settings' },
];

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('appraise.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The composition root of the window: the app-wide state, then the shell around the current screen. */
export function App() {
  return (
    <AppProvider>
      <Shell />
    </AppProvider>
  );
}

function Shell() {
  const { info, infoError, screen, go } = useApp();
  const [theme, setTheme] = useState<Theme>(initialTheme);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('appraise.theme', theme);
  }, [theme]);

  // Alt+1 … Alt+7 switch screens from anywhere.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= SCREENS.length) {
        e.preventDefault();
        go(SCREENS[n - 1].id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  // After a screen change, focus moves to the main area so a keyboard or screen-reader user starts on the new
  // screen instead of back in the navigation (skipped on first render: the skip link comes first there).
  const mainRef = useRef<HTMLElement>(null);
  const firstScreen = useRef(true);
  useEffect(() => {
    if (firstScreen.current) {
      firstScreen.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [screen]);

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to the main area
      </a>
      <header className="topbar">
        <div className="brand">
          <img src="./icon.svg" alt="" width={24} height={24} /> Appraise
        </div>
        <div className="status" aria-live="polite">
          {info ? (
            <>
              <span title={info.workspace}>Workspace: {info.workspace}</span>
              <span>
                Champion:{' '}
                {info.champion ? (
                  <strong data-testid="champion">
                    {info.champion.name} ({shortId(info.champion.id)})
                  </strong>
                ) : (
                  'none yet'
                )}
              </span>
              <span className="muted">v{info.version}</span>
            </>
          ) : (
            <span className="muted">Connecting…</span>
          )}
        </div>
        <JobsIndicator />
        <ProblemsPanel />
        <LockScreen />
        <button
          className="secondary"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
        >
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </header>
      <nav className="sidenav" aria-label="Screens">
        {SCREENS.map((s, i) => (
          <button
            key={s.id}
            className={screen === s.id ? 'nav active' : 'nav'}
            aria-current={screen === s.id ? 'page' : undefined}
            onClick={() => go(s.id)}
            title={`Alt+${i + 1}`}
            aria-describedby={s.id === 'monitoring' ? ALERT_COUNT_DESCRIPTION_ID : undefined}
          >
            {s.label}
            {s.id === 'monitoring' && (
              <>
                {' '}
                <AlertCountBadge />
              </>
            )}
          </button>
        ))}
        <p className="muted hint">Alt+1…{SCREENS.length} switch screens</p>
      </nav>
      <main className="content" id="main" tabIndex={-1} ref={mainRef}>
        <ErrorBanner error={infoError} />
        {screen === 'value' && <ValueScreen />}
        {screen === 'batch' && <BatchScreen />}
        {screen === 'data' && <DataScreen />}
        {screen === 'models' && <ModelsScreen />}
        {screen === 'train' && <TrainScreen />}
        {screen === 'monitoring' && <MonitoringScreen />}
        {screen === 'market' && <MarketScreen />}
        {screen === 'sync' && <SyncScreen />}
        {screen === 'settings' && <SettingsScreen />}
      </main>
    </div>
  );
}
