import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from './api/client';
import type { Catalog, ConsoleSettings } from './api/types';
import { useRoute } from './hooks';
import { useI18n } from './i18n';
import { remember, remembered } from './logic/storage';
import { dismissMore, dismissToast, emptyToasts, expireToasts, nextExpiry, pushToasts, type ToastState } from './logic/toasts';
import { SharedContext, stream, type Shared } from './state';
import { notableChanges } from './stream/notable';
import { Header, type Theme } from './components/Header';
import { Toasts } from './components/Toasts';
import { FleetView } from './views/Fleet';
import { DeviceView } from './views/Device';
import { AlertsView } from './views/Alerts';
import { PipelineView } from './views/Pipeline';
import { AccessView } from './views/Access';

function initialTheme(): Theme {
  const stored = remembered('theme');
  if (stored === 'light' || stored === 'dark') return stored;
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The console of a logged-in user (Root shows the login page otherwise; a new login mounts a
 *  new App, and its stream resumes after the last event the previous one applied). */
export function App() {
  const { t } = useI18n();
  const route = useRoute();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [settings, setSettings] = useState<ConsoleSettings>({ grafana: null });
  const [toasts, setToasts] = useState<ToastState>(emptyToasts);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => {
    let cancelled = false;
    const loadCatalog = (attempt: number) =>
      api.catalog().then(
        (c) => !cancelled && setCatalog(c),
        () => !cancelled && setTimeout(() => loadCatalog(attempt + 1), Math.min(30_000, 1000 * 2 ** attempt)),
      );
    loadCatalog(0);
    api.consoleSettings().then(
      (s) => !cancelled && setSettings(s),
      () => undefined, // no settings: no Grafana
    );
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    stream.start();
    const off = stream.onEvents((events, before) => {
      const changes = notableChanges(before.open, events);
      if (changes.length === 0) return;
      setToasts((state) => {
        let next = state;
        for (const change of changes) if (change.kind === 'closed') next = dismissToast(next, change.alert.id);
        const raised = changes.filter((c) => c.kind !== 'closed');
        return pushToasts(
          next,
          raised.map((c) => ({
            alertId: c.alert.id,
            kind: c.kind === 'escalated' ? 'escalated' : 'raised',
            severity: c.alert.severity,
            deviceId: c.alert.device_id,
            rule: c.alert.rule,
            alert: c.alert,
          })),
          Date.now(),
        );
      });
    });
    return () => {
      off();
      stream.stop();
    };
  }, []);

  useEffect(() => {
    const due = nextExpiry(toasts);
    if (due === null) return;
    const timer = setTimeout(() => setToasts((s) => expireToasts(s, Date.now())), Math.max(0, due - Date.now()) + 20);
    return () => clearTimeout(timer);
  }, [toasts]);

  const shared = useMemo<Shared>(() => ({ catalog, settings }), [catalog, settings]);

  const changeTheme = useCallback((next: Theme) => {
    remember('theme', next);
    setTheme(next);
  }, []);

  // Move focus to the page on navigation, for keyboard and screen-reader users.
  const pageKey = route.page === 'device' ? `device/${route.deviceId}` : route.page;
  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [pageKey]);

  return (
    <SharedContext.Provider value={shared}>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t.skipToContent}
      </a>
      <Header route={route} theme={theme} onTheme={changeTheme} />
      <main id="main" tabIndex={-1}>
        {route.page === 'fleet' && <FleetView />}
        {route.page === 'device' && <DeviceView key={route.deviceId} deviceId={route.deviceId} />}
        {route.page === 'alerts' && <AlertsView alertId={route.alertId} />}
        {route.page === 'pipeline' && <PipelineView />}
        {route.page === 'access' && <AccessView />}
      </main>
      <Toasts
        state={toasts}
        onDismiss={(id) => setToasts((s) => dismissToast(s, id))}
        onDismissMore={() => setToasts((s) => dismissMore(s))}
      />
    </SharedContext.Provider>
  );
}
