// Loading skeletons, errors in plain words with a retry, and empty states.
import type { ReactNode } from 'react';
import { errorSentence } from '../api/errors';
import { useI18n } from '../i18n';
import { useNow } from '../hooks';

export function Skeleton({ rows = 4 }: { rows?: number }) {
  const { t } = useI18n();
  return (
    <div className="skeleton" role="status" aria-live="polite">
      <span className="visually-hidden">{t.loading}</span>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton-line" aria-hidden="true" />
      ))}
    </div>
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const i18n = useI18n();
  const now = useNow();
  return (
    <div className="notice notice-error" role="alert" data-testid="error">
      <span>{errorSentence(error, i18n.t, (iso) => i18n.relative(iso, now))}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {i18n.t.retry}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <p className="empty" data-testid="empty">
      {children}
    </p>
  );
}

export function RelativeTime({ iso }: { iso: string }) {
  const i18n = useI18n();
  const now = useNow();
  return (
    <time dateTime={iso} title={i18n.dateTime(iso)}>
      {i18n.relative(iso, now)}
    </time>
  );
}
