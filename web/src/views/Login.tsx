// The login page: name and password, the server's answer in a plain sentence (a wrong password,
// "too many attempts" with a countdown from Retry-After, an unreachable server), in the chosen
// language. Shown instead of the console whenever it is not logged in; the route in the URL is
// left alone, so a login returns to the page that was open.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import { errorSentence, waitText } from '../api/errors';
import { useI18n, type Lang } from '../i18n';
import { useNow } from '../hooks';
import type { AnonymousReason } from '../logic/session';
import { secondsLeft } from '../logic/session';
import { roleLabel } from '../logic/permissions';

interface Failure {
  error: unknown;
  /** For a 429 with Retry-After: when trying again makes sense (ms since the epoch). */
  until: number | null;
}

export function LoginView({ reason, role }: { reason: AnonymousReason; role?: string }) {
  const i18n = useI18n();
  const { t, lang, setLang } = i18n;
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [missing, setMissing] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const id = useId();
  const now = useNow(1000);
  const wait = failure?.until ? secondsLeft(failure.until, now) : 0;

  useEffect(() => {
    nameRef.current?.focus();
  }, []);

  useEffect(() => {
    document.title = `${t.loginTitle} · ${t.appName}`;
    return () => {
      document.title = t.appName;
    };
  }, [t]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || wait > 0) return;
    if (!name.trim() || !password) {
      setMissing(true);
      (name.trim() ? passwordRef : nameRef).current?.focus();
      return;
    }
    setMissing(false);
    setBusy(true);
    setFailure(null);
    try {
      await api.login(name.trim(), password);
      // The session store now says "signed in": the console replaces this page.
    } catch (error) {
      setBusy(false);
      const retryAfter = error instanceof ApiError && error.kind === 'tooManyRequests' ? error.retryAfter : null;
      setFailure({ error, until: retryAfter === null ? null : Date.now() + retryAfter * 1000 });
      if (error instanceof ApiError && error.kind === 'unauthorized') setPassword('');
      passwordRef.current?.focus();
    }
  }

  const notice =
    reason === 'expired' ? t.loginExpired : reason === 'logout' ? t.loginLoggedOut : reason === 'role' ? t.loginRoleDenied(roleLabel(role ?? '', t)) : null;

  let message: string | null = null;
  if (missing) message = t.loginMissing;
  else if (failure) {
    const error = failure.error;
    if (error instanceof ApiError && error.kind === 'unauthorized') message = t.loginRefused(error.detail);
    else if (error instanceof ApiError && error.kind === 'tooManyRequests')
      message =
        failure.until === null
          ? t.error_tooMany(error.detail)
          : wait > 0
            ? t.error_tooManyWait(error.detail, waitText(wait, t))
            : t.loginTryNow(error.detail);
    else message = errorSentence(error, t, (iso) => i18n.relative(iso, now));
  }
  const errorId = `${id}-error`;

  return (
    <main id="main" className="login-page" tabIndex={-1}>
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby={`${id}-title`} data-testid="login-form">
        <h1 id={`${id}-title`}>{t.appName}</h1>
        <p className="muted">{t.loginTitle}</p>
        {notice && (
          <p className={`notice ${reason === 'role' ? 'notice-error' : ''}`} role="status" data-testid="login-notice" data-reason={reason}>
            {notice}
          </p>
        )}
        <div className="field">
          <label htmlFor={`${id}-name`}>{t.loginName}</label>
          <input
            id={`${id}-name`}
            ref={nameRef}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={missing && !name.trim() ? true : undefined}
            aria-describedby={message ? errorId : undefined}
            data-testid="login-name"
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>{t.loginPassword}</label>
          <input
            id={`${id}-password`}
            ref={passwordRef}
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={(missing && !password) || (failure !== null && !missing) ? true : undefined}
            aria-describedby={message ? errorId : undefined}
            data-testid="login-password"
          />
        </div>
        {message && (
          <p className="notice notice-error" id={errorId} role="alert" data-testid="login-error">
            {message}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || wait > 0} data-testid="login-submit">
          {busy ? t.loginBusy : t.loginSubmit}
        </button>
        <p className="muted small">{t.loginHint}</p>
        <label className="login-language">
          <span>{t.language}</span>
          <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="language-switch">
            <option value="ko">한국어</option>
            <option value="en">English</option>
          </select>
        </label>
      </form>
    </main>
  );
}
