// The strip on every page: navigation (Access for admins), open critical/warning counts, stream
// state, language, theme, and who is logged in with their role and a logout button.
import { useState } from 'react';
import { api } from '../api/client';
import { errorSentence } from '../api/errors';
import { openCounts } from '../stream/reducer';
import { useStream, useUser } from '../state';
import { useI18n, type Lang } from '../i18n';
import { can, roleLabel } from '../logic/permissions';
import { routeHref, type Route } from '../logic/routes';
import { useNow } from '../hooks';

export type Theme = 'light' | 'dark';

export function Header({ route, theme, onTheme }: { route: Route; theme: Theme; onTheme(theme: Theme): void }) {
  const i18n = useI18n();
  const { t, lang, setLang, num } = i18n;
  const state = useStream();
  const user = useUser();
  const [leaving, setLeaving] = useState(false);
  const [logoutError, setLogoutError] = useState<unknown>(null);
  const counts = openCounts(state.open);
  const now = useNow(1000);
  const page = route.page === 'device' ? 'fleet' : route.page;
  const link = (target: Route, label: string) => (
    <a href={routeHref(target)} aria-current={page === target.page ? 'page' : undefined}>
      {label}
    </a>
  );
  async function logout() {
    setLeaving(true);
    setLogoutError(null);
    try {
      await api.logout(); // then the session store says "logged out": the login page replaces the console
    } catch (error) {
      setLeaving(false);
      setLogoutError(error);
    }
  }

  const retryIn = state.retryAt && state.connection !== 'live' ? Math.max(0, Math.ceil((state.retryAt - now) / 1000)) : null;
  return (
    <header className="header">
      <a className="brand" href="#/">
        {t.appName}
      </a>
      <nav aria-label={t.navLabel}>
        {link({ page: 'fleet' }, t.navFleet)}
        {link({ page: 'alerts', alertId: null }, t.navAlerts)}
        {link({ page: 'pipeline' }, t.navPipeline)}
        {can(user?.role, 'manageAccess') && link({ page: 'access' }, t.navAccess)}
      </nav>
      <a className="counts" href="#/alerts" aria-label={t.openAlertsLabel} data-testid="open-counts">
        <span className={`count ${counts.critical ? 'sev-critical' : 'count-zero'}`} data-testid="open-critical" data-count={counts.critical}>
          <span aria-hidden="true">✖ </span>
          {t.openCritical(num(counts.critical))}
        </span>
        <span className={`count ${counts.warning ? 'sev-warning' : 'count-zero'}`} data-testid="open-warning" data-count={counts.warning}>
          <span aria-hidden="true">▲ </span>
          {t.openWarning(num(counts.warning))}
        </span>
      </a>
      <span
        className={`connection connection-${state.connection}`}
        data-testid="connection-state"
        data-state={state.connection}
        role="status"
        aria-label={t.connectionLabel}
      >
        <span className="dot" aria-hidden="true" />
        {t[`connection_${state.connection}`]}
        {retryIn !== null && retryIn > 0 && <small> · {t.connectionRetryIn(num(retryIn))}</small>}
      </span>
      <div className="settings">
        <label>
          <span className="visually-hidden">{t.language}</span>
          <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="language-switch">
            <option value="ko">한국어</option>
            <option value="en">English</option>
          </select>
        </label>
        <button
          type="button"
          onClick={() => onTheme(theme === 'dark' ? 'light' : 'dark')}
          aria-label={t.theme}
          title={t.theme}
          data-testid="theme-toggle"
        >
          {theme === 'dark' ? `☀ ${t.themeLight}` : `☾ ${t.themeDark}`}
        </button>
        {user && (
          <span className="session-user" data-testid="session-user" data-name={user.name} data-role={user.role}>
            <span className="visually-hidden">{t.loggedInAs} </span>
            <span className="user-name">{user.name}</span>{' '}
            <span className={`badge role role-${user.role}`} data-testid="session-role">
              {roleLabel(user.role, t)}
            </span>
          </span>
        )}
        <button type="button" onClick={logout} disabled={leaving} data-testid="logout">
          {leaving ? t.loggingOut : t.logout}
        </button>
        {logoutError != null && (
          <span className="notice notice-error header-error" role="alert" data-testid="logout-error">
            {errorSentence(logoutError, t, (iso) => i18n.relative(iso, now))}
          </span>
        )}
      </div>
    </header>
  );
}
