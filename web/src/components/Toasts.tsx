// Alert toasts, top right, newest on top; announced through aria-live. Clicking opens the alert.
import type { ToastState } from '../logic/toasts';
import { useI18n } from '../i18n';
import { routeHref } from '../logic/routes';
import { SeverityBadge } from './SeverityBadge';
import { alertSummary } from '../logic/summary';

export function Toasts({
  state,
  onDismiss,
  onDismissMore,
}: {
  state: ToastState;
  onDismiss(alertId: number): void;
  onDismissMore(): void;
}) {
  const { t, num, lang } = useI18n();
  return (
    <section className="toasts" aria-label={t.toastRegion} aria-live="polite" aria-relevant="additions" data-testid="toasts">
      {state.visible.map((toast) => (
        <div
          key={toast.alertId}
          className={`toast toast-${toast.severity}`}
          data-testid="toast"
          data-alert-id={toast.alertId}
          data-severity={toast.severity}
          data-kind={toast.kind}
        >
          <a className="toast-body" href={routeHref({ page: 'alerts', alertId: toast.alertId })} onClick={() => onDismiss(toast.alertId)}>
            <span className="toast-title">
              <SeverityBadge severity={toast.severity} /> {toast.kind === 'escalated' ? t.toastEscalated : t.toastRaised}
              {' · '}
              <strong>{toast.deviceId}</strong> · {toast.rule}
            </span>
            <span className="toast-summary">{alertSummary(toast.alert, lang, t)}</span>
          </a>
          <button type="button" className="toast-close" onClick={() => onDismiss(toast.alertId)} aria-label={t.dismiss} title={t.dismiss}>
            ×
          </button>
        </div>
      ))}
      {state.more > 0 && (
        <div className={`toast toast-more ${state.moreCritical ? 'toast-critical' : 'toast-warning'}`} data-testid="toast-more" data-count={state.more}>
          <a className="toast-body" href="#/alerts" onClick={onDismissMore} title={t.toastMoreOpen}>
            {t.toastMore(num(state.more))}
          </a>
          <button type="button" className="toast-close" onClick={onDismissMore} aria-label={t.dismiss} title={t.dismiss}>
            ×
          </button>
        </div>
      )}
    </section>
  );
}
