// Logged in or not: asks GET /api/v1/session at start (retrying while the server cannot be
// reached), then shows the login page or the console. The route stays in the URL's hash
// throughout, so after a login the console opens where it was.
import { useEffect } from 'react';
import { api, ApiError, session } from './api/client';
import { errorSentence } from './api/errors';
import { useI18n } from './i18n';
import { useSession } from './state';
import { backoffDelay } from './stream/backoff';
import { App } from './App';
import { LoginView } from './views/Login';

export function Root() {
  const state = useSession();
  const i18n = useI18n();
  const { t } = i18n;
  const attempts = state.status === 'checking' ? state.attempts : -1;

  useEffect(() => {
    if (attempts < 0) return;
    let cancelled = false;
    const check = () =>
      api.session().catch((error: unknown) => {
        // A 401 has already switched to the login page (in the API client).
        if (cancelled || (error instanceof ApiError && error.kind === 'unauthorized')) return;
        session.dispatch({ type: 'checkFailed', error });
      });
    const timer = setTimeout(check, attempts === 0 ? 0 : backoffDelay(attempts, Math.random()));
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [attempts]);

  if (state.status === 'signedIn') return <App key={state.epoch} />;
  if (state.status === 'anonymous') return <LoginView reason={state.reason} role={state.role} />;
  return (
    <main id="main" className="login-page" tabIndex={-1} data-testid="session-checking">
      <div className="login-card">
        <h1>{t.appName}</h1>
        {state.failure == null ? (
          <p role="status">{t.sessionChecking}</p>
        ) : (
          <div className="notice notice-error" role="alert" data-testid="error">
            <span>{errorSentence(state.failure, t, (iso) => i18n.relative(iso, Date.now()))}</span>
            <button type="button" onClick={() => session.dispatch({ type: 'recheck' })}>
              {t.retry}
            </button>
          </div>
        )}
      </div>
    </main>
  );
}
