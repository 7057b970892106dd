// One alert: summary, narrative, contributors (metric, value, limit, z), history (who, when, note), actions.
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useLoad } from '../hooks';
import { routeHref } from '../logic/routes';
import { SeverityBadge } from '../components/SeverityBadge';
import { AlertStatusBadge } from '../components/StatusBadges';
import { ErrorNotice, RelativeTime, Skeleton } from '../components/Feedback';
import { AlertActions } from '../components/AlertActions';
import { alertSummary, metricName } from '../logic/summary';

export function AlertDetailPanel({ id, tick, onChanged }: { id: number; tick: number; onChanged(): void }) {
  const { t, num, value, dateTime, lang } = useI18n();
  const detail = useLoad((signal) => api.alert(id, signal), `alert/${id}`, undefined, tick);
  if (detail.error != null) return <ErrorNotice error={detail.error} onRetry={detail.reload} />;
  if (!detail.data) return <Skeleton rows={5} />;
  const { alert, history = [], history_total: historyTotal = history.length } = detail.data;
  const actionLabel = (action: string) => {
    const key = `action_${action}` as keyof typeof t;
    return typeof t[key] === 'string' ? (t[key] as string) : action;
  };
  return (
    <article className={`detail detail-${alert.severity}`} data-testid="alert-detail" data-alert-id={alert.id} data-status={alert.status} aria-labelledby="alert-detail-title">
      <h2 id="alert-detail-title">{t.alertDetailTitle(String(alert.id), alert.device_id)}</h2>
      <p>
        <SeverityBadge severity={alert.severity} /> <AlertStatusBadge status={alert.status} /> · {alert.rule} ·{' '}
        {t.alertScore(num(alert.score, 1), num(alert.peak_score, 1))} · {t.alertReadings(num(alert.reading_count))} ·{' '}
        <RelativeTime iso={alert.raised_at} />
        {alert.profile && alert.profile !== 'default' && (
          <>
            {' · '}
            <span data-testid="alert-profile">{t.alertProfile(alert.profile)}</span>
          </>
        )}
        {alert.cleared_at && <> · {t.alertCleared(dateTime(alert.cleared_at))}</>}
      </p>
      <p>
        <a href={routeHref({ page: 'device', deviceId: alert.device_id })} data-testid="open-device">
          {t.openDevice} →
        </a>
      </p>
      <AlertActions
        targets={[alert]}
        onDone={() => {
          detail.reload();
          onChanged();
        }}
      />
      {alert.narrative && (
        <section>
          <h3>{t.alertNarrative}</h3>
          <p data-testid="alert-narrative">{alert.narrative}</p>
        </section>
      )}
      <section>
        <h3>{t.alertSummary}</h3>
        <p data-testid="alert-summary">{alertSummary(alert, lang, t)}</p>
      </section>
      <section>
        <h3>{t.alertContributors}</h3>
        <table className="compact" data-testid="alert-contributors">
          <thead>
            <tr>
              <th scope="col">{t.columnMetric}</th>
              <th scope="col" className="num">{t.columnValue}</th>
              <th scope="col" className="num">{t.columnLimit}</th>
              <th scope="col" className="num">{t.columnZ}</th>
            </tr>
          </thead>
          <tbody>
            {alert.contributors.map((c) => (
              <tr key={c.metric}>
                <th scope="row">
                  {metricName(c.metric, t)} {c.severity && <SeverityBadge severity={c.severity} />}
                </th>
                <td className="num">{value(c.value, c.unit)}</td>
                <td className="num">{c.limit === undefined ? '—' : value(c.limit, c.unit)}</td>
                <td className="num">{num(c.z, 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>{t.alertHistory}</h3>
        {historyTotal > history.length && (
          <p className="muted" data-testid="alert-history-latest">
            {t.alertHistoryLatest(num(history.length, 0), num(historyTotal, 0))}
          </p>
        )}
        <table className="compact" data-testid="alert-history">
          <thead>
            <tr>
              <th scope="col">{t.columnAction}</th>
              <th scope="col">{t.columnWho}</th>
              <th scope="col">{t.columnWhen}</th>
              <th scope="col">{t.columnNote}</th>
            </tr>
          </thead>
          <tbody>
            {history.map((h, i) => (
              <tr key={i} data-action={h.action}>
                <td>{actionLabel(h.action)}</td>
                <td>{h.actor}</td>
                <td>
                  {dateTime(h.at)} (<RelativeTime iso={h.at} />)
                </td>
                <td>{h.note ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </article>
  );
}
