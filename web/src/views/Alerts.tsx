// Alert panel: filters, counts of pending and acknowledged, a list (critical first among open
// ones, newest first otherwise) with multi-select and keyboard control, and the detail of the
// alert in the URL (#/alerts/<id>) with summary, narrative, contributors and history.
import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../api/client';
import type { Alert, AlertQuery } from '../api/types';
import { useI18n } from '../i18n';
import { navigate, useLoad } from '../hooks';
import { useStreamTick } from '../hooksStream';
import { routeHref } from '../logic/routes';
import { SeverityBadge } from '../components/SeverityBadge';
import { AlertStatusBadge } from '../components/StatusBadges';
import { Empty, ErrorNotice, RelativeTime, Skeleton } from '../components/Feedback';
import { AlertActions, type AlertActionsHandle } from '../components/AlertActions';
import { AlertDetailPanel } from './AlertDetail';
import { alertSummary } from '../logic/summary';

type StatusFilter = 'open' | 'pending' | 'acknowledged' | 'resolved' | 'all';
type TimeFilter = '1h' | '24h' | '7d' | 'all';
const timeSpans: Record<Exclude<TimeFilter, 'all'>, number> = { '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };
const PAGE = 100;

interface Filters {
  status: StatusFilter;
  severity: 'all' | 'critical' | 'warning';
  device: string;
  time: TimeFilter;
}

function toQuery(filters: Filters, limit: number): AlertQuery {
  return {
    status: filters.status === 'all' ? undefined : filters.status === 'open' ? ['pending', 'acknowledged'] : [filters.status],
    severity: filters.severity === 'all' ? undefined : [filters.severity],
    device: filters.device.trim() || undefined,
    from: filters.time === 'all' ? undefined : new Date(Date.now() - timeSpans[filters.time]).toISOString(),
    limit,
  };
}

/** Critical first among open alerts; otherwise the server's order (newest first). */
export function panelOrder(alerts: readonly Alert[]): Alert[] {
  const rank = (a: Alert) => (a.status !== 'resolved' && a.severity === 'critical' ? 0 : a.status !== 'resolved' ? 1 : 2);
  return alerts.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i).map((x) => x.a);
}

export function AlertsView({ alertId }: { alertId: number | null }) {
  const { t, num, lang } = useI18n();
  const [filters, setFilters] = useState<Filters>({ status: 'open', severity: 'all', device: '', time: 'all' });
  const [limit, setLimit] = useState(PAGE);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [cursor, setCursor] = useState(0);
  const tick = useStreamTick(1000);
  const actions = useRef<AlertActionsHandle>(null);
  const rowRefs = useRef<(HTMLTableRowElement | null)[]>([]);

  const list = useLoad((signal) => api.alerts(toQuery(filters, limit), signal), JSON.stringify([filters, limit]), undefined, tick);
  const counts = useLoad(
    async (signal) => {
      const [pending, acknowledged] = await Promise.all([
        api.alerts({ status: ['pending'], limit: 1 }, signal),
        api.alerts({ status: ['acknowledged'], limit: 1 }, signal),
      ]);
      return { pending: pending.total, acknowledged: acknowledged.total };
    },
    'counts',
    undefined,
    tick,
  );
  const alerts = useMemo(() => panelOrder(list.data?.alerts ?? []), [list.data]);
  const chosen = alerts.filter((a) => selected.has(a.id));
  const cursorAlert = alerts[Math.min(cursor, alerts.length - 1)];
  const targets = chosen.length ? chosen : cursorAlert ? [cursorAlert] : [];
  const set = (patch: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...patch }));
    setSelected(new Set());
    setLimit(PAGE);
    setCursor(0);
  };
  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const moveTo = (index: number) => {
    const next = Math.max(0, Math.min(alerts.length - 1, index));
    setCursor(next);
    rowRefs.current[next]?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (e.target instanceof HTMLInputElement && e.target.type !== 'checkbox') return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const alert = alerts[cursor];
    switch (e.key) {
      case 'ArrowDown':
      case 'j':
        moveTo(cursor + 1);
        break;
      case 'ArrowUp':
      case 'k':
        moveTo(cursor - 1);
        break;
      case ' ':
        if (alert) toggle(alert.id);
        break;
      case 'Enter':
        if (alert) navigate({ page: 'alerts', alertId: alert.id });
        break;
      case 'a':
        actions.current?.run('acknowledge');
        break;
      case 'r':
        actions.current?.run('resolve');
        break;
      case 'd':
        if (alert) navigate({ page: 'device', deviceId: alert.device_id });
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <section className="page alerts" aria-labelledby="alerts-title">
      <h1 id="alerts-title">
        {t.alertsTitle}{' '}
        {counts.data && (
          <small className="alert-counts">
            <span data-testid="count-pending" data-count={counts.data.pending}>{t.alertsPending(num(counts.data.pending))}</span>
            {' · '}
            <span data-testid="count-acknowledged" data-count={counts.data.acknowledged}>{t.alertsAcknowledged(num(counts.data.acknowledged))}</span>
          </small>
        )}
      </h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.alertsFilterStatus}
          <select value={filters.status} onChange={(e) => set({ status: e.target.value as StatusFilter })} data-testid="alerts-filter-status">
            <option value="open">{t.alertsFilterOpen}</option>
            <option value="pending">{t.alertStatus_pending}</option>
            <option value="acknowledged">{t.alertStatus_acknowledged}</option>
            <option value="resolved">{t.alertStatus_resolved}</option>
            <option value="all">{t.filterAll}</option>
          </select>
        </label>
        <label>
          {t.alertsFilterSeverity}
          <select value={filters.severity} onChange={(e) => set({ severity: e.target.value as Filters['severity'] })} data-testid="alerts-filter-severity">
            <option value="all">{t.filterAll}</option>
            <option value="critical">{t.severity_critical}</option>
            <option value="warning">{t.severity_warning}</option>
          </select>
        </label>
        <label>
          {t.alertsFilterDevice}
          <input type="search" value={filters.device} onChange={(e) => set({ device: e.target.value })} data-testid="alerts-filter-device" />
        </label>
        <label>
          {t.alertsFilterTime}
          <select value={filters.time} onChange={(e) => set({ time: e.target.value as TimeFilter })} data-testid="alerts-filter-time">
            <option value="all">{t.time_all}</option>
            <option value="1h">{t.time_1h}</option>
            <option value="24h">{t.time_24h}</option>
            <option value="7d">{t.time_7d}</option>
          </select>
        </label>
      </form>
      <div className="alerts-layout">
        <div className="alerts-list">
          {list.error != null && <ErrorNotice error={list.error} onRetry={list.reload} />}
          {!list.data && !list.error && <Skeleton rows={6} />}
          {list.data && alerts.length === 0 && <Empty>{t.alertsEmpty}</Empty>}
          {alerts.length > 0 && (
            <>
              <div className="bulk" data-testid="bulk-actions">
                <AlertActions ref={actions} targets={targets} onDone={list.reload} />
              </div>
              <p className="muted keys">{t.alertsKeys}</p>
              <table className="alert-table">
                <thead>
                  <tr>
                    <th scope="col">
                      <input
                        type="checkbox"
                        aria-label={t.selectAll}
                        checked={chosen.length > 0 && chosen.length === alerts.length}
                        onChange={(e) => setSelected(e.target.checked ? new Set(alerts.map((a) => a.id)) : new Set())}
                        data-testid="select-all"
                      />
                    </th>
                    <th scope="col">{t.alertsFilterSeverity}</th>
                    <th scope="col">{t.columnDevice}</th>
                    <th scope="col">{t.columnStatus}</th>
                    <th scope="col">{t.columnRaised}</th>
                    <th scope="col">{t.columnSummary}</th>
                  </tr>
                </thead>
                <tbody onKeyDown={onKey}>
                  {alerts.map((alert, index) => (
                    <tr
                      key={alert.id}
                      ref={(el) => (rowRefs.current[index] = el)}
                      tabIndex={index === cursor ? 0 : -1}
                      className={`alert-row ${alert.id === alertId ? 'current' : ''} ${selected.has(alert.id) ? 'selected' : ''}`}
                      aria-selected={selected.has(alert.id)}
                      onFocus={() => setCursor(index)}
                      onClick={(e) => {
                        if (!(e.target instanceof HTMLInputElement) && !(e.target instanceof HTMLAnchorElement)) {
                          navigate({ page: 'alerts', alertId: alert.id });
                        }
                      }}
                      data-testid="alert-row"
                      data-alert-id={alert.id}
                      data-status={alert.status}
                      data-severity={alert.severity}
                    >
                      <td>
                        <input
                          type="checkbox"
                          tabIndex={-1}
                          aria-label={t.selectAlert(String(alert.id))}
                          checked={selected.has(alert.id)}
                          onChange={() => toggle(alert.id)}
                          data-testid="alert-select"
                        />
                      </td>
                      <td>
                        <SeverityBadge severity={alert.severity} />
                      </td>
                      <td className="cut" title={alert.device_id}>
                        <a href={routeHref({ page: 'device', deviceId: alert.device_id })} tabIndex={-1}>
                          {alert.device_id}
                        </a>
                      </td>
                      <td>
                        <AlertStatusBadge status={alert.status} />
                      </td>
                      <td>
                        <RelativeTime iso={alert.raised_at} />
                      </td>
                      <td className="summary-cell">
                        <a href={routeHref({ page: 'alerts', alertId: alert.id })} tabIndex={-1}>
                          {alertSummary(alert, lang, t)}
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted">
                {t.alertsCount(num(alerts.length), num(list.data?.total ?? 0))}{' '}
                {list.data && list.data.total > alerts.length && (
                  <button type="button" onClick={() => setLimit((l) => Math.min(1000, l + PAGE))}>
                    {t.alertsLoadMore}
                  </button>
                )}
              </p>
            </>
          )}
        </div>
        <div className="alert-detail">
          {alertId === null ? <Empty>{t.alertSelectHint}</Empty> : <AlertDetailPanel id={alertId} tick={tick} onChanged={list.reload} />}
        </div>
      </div>
    </section>
  );
}
