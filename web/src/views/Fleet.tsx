// Fleet overview: every device with status, latest values with units, score by severity and
// its open alert; filters and sort (abnormal first). Values are polled, alerts come live from
// /ws. Only the rows in view are rendered, so 1,000 devices stay smooth.
import { memo, useMemo, useRef, useState, type UIEvent } from 'react';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { navigate, useLoad } from '../hooks';
import { defaultFleetFilter, filterAndSort, fleetRows, visibleWindow, type FleetFilter, type FleetRow } from '../logic/fleet';
import { routeHref } from '../logic/routes';
import { unitOf } from '../logic/charts';
import { useShared, useStream } from '../state';
import { DeviceStatusBadge, AlertStatusBadge } from '../components/StatusBadges';
import { SeverityBadge } from '../components/SeverityBadge';
import { Empty, ErrorNotice, RelativeTime, Skeleton } from '../components/Feedback';
import type { Catalog } from '../api/types';
import { metricName } from '../logic/summary';

const ROW_HEIGHT = 36;
const POLL_MS = 5_000;
const valueColumns = ['temperature', 'humidity', 'vibration', 'sound'] as const;

export function FleetView() {
  const { t, num } = useI18n();
  const { catalog } = useShared();
  const stream = useStream();
  const devices = useLoad((signal) => api.allDevices(signal), 'fleet', POLL_MS);
  const [filter, setFilter] = useState<FleetFilter>(defaultFleetFilter);
  const [scroll, setScroll] = useState({ top: 0, height: 800 });
  const scroller = useRef<HTMLDivElement>(null);

  const rows = useMemo(
    () => fleetRows(devices.data?.devices ?? [], catalog, stream.synced ? stream.open : null),
    [devices.data, catalog, stream.open, stream.synced],
  );
  const shown = useMemo(() => filterAndSort(rows, filter), [rows, filter]);
  const window = visibleWindow(shown.length, scroll.top, scroll.height, ROW_HEIGHT);
  const onScroll = (e: UIEvent<HTMLDivElement>) =>
    setScroll({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight });
  const set = (patch: Partial<FleetFilter>) => {
    setFilter((f) => ({ ...f, ...patch }));
    scroller.current?.scrollTo({ top: 0 });
  };

  return (
    <section className="page fleet" aria-labelledby="fleet-title">
      <h1 id="fleet-title">{t.fleetTitle}</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.fleetFilterName}
          <input
            type="search"
            value={filter.text}
            placeholder={t.fleetFilterNamePlaceholder}
            onChange={(e) => set({ text: e.target.value })}
            data-testid="fleet-filter-text"
          />
        </label>
        <label>
          {t.fleetFilterStatus}
          <select value={filter.status} onChange={(e) => set({ status: e.target.value as FleetFilter['status'] })} data-testid="fleet-filter-status">
            <option value="all">{t.filterAll}</option>
            <option value="online">{t.deviceStatus_online}</option>
            <option value="stale">{t.deviceStatus_stale}</option>
          </select>
        </label>
        <label>
          {t.fleetFilterSeverity}
          <select value={filter.condition} onChange={(e) => set({ condition: e.target.value as FleetFilter['condition'] })} data-testid="fleet-filter-condition">
            <option value="all">{t.filterAll}</option>
            <option value="abnormal">{t.filterAbnormal}</option>
            <option value="critical">{t.severity_critical}</option>
            <option value="warning">{t.severity_warning}</option>
            <option value="normal">{t.severity_normal}</option>
          </select>
        </label>
        <label>
          {t.fleetSort}
          <select value={filter.sort} onChange={(e) => set({ sort: e.target.value as FleetFilter['sort'] })} data-testid="fleet-sort">
            <option value="abnormal">{t.sortAbnormal}</option>
            <option value="id">{t.sortId}</option>
            <option value="score">{t.sortScore}</option>
            <option value="lastSeen">{t.sortLastSeen}</option>
          </select>
        </label>
        {devices.data && (
          <output className="muted" data-testid="fleet-count">
            {t.fleetCount(num(shown.length), num(devices.data.total))}
          </output>
        )}
      </form>
      {devices.error != null && <ErrorNotice error={devices.error} onRetry={devices.reload} />}
      {!devices.data && !devices.error && <Skeleton rows={8} />}
      {devices.data && devices.data.total === 0 && <Empty>{t.fleetEmpty}</Empty>}
      {devices.data && devices.data.total > 0 && shown.length === 0 && <Empty>{t.fleetNoMatch}</Empty>}
      {shown.length > 0 && (
        <div className="table-scroll" ref={scroller} onScroll={onScroll} data-testid="fleet-table">
          <table className="fleet-table">
            <thead>
              <tr>
                <th scope="col">{t.columnStatus}</th>
                <th scope="col">{t.columnDevice}</th>
                {valueColumns.map((metric) => (
                  <th scope="col" key={metric} className="num">
                    {metricName(metric, t)}
                  </th>
                ))}
                <th scope="col">{t.columnWorst}</th>
                <th scope="col" className="num">{t.columnScore}</th>
                <th scope="col">{t.columnAlert}</th>
                <th scope="col">{t.columnLastSeen}</th>
              </tr>
            </thead>
            <tbody>
              {window.start > 0 && <tr style={{ height: window.start * ROW_HEIGHT }} aria-hidden="true" />}
              {shown.slice(window.start, window.end).map((row) => (
                <DeviceRow key={row.device.device_id} row={row} catalog={catalog} />
              ))}
              {window.end < shown.length && <tr style={{ height: (shown.length - window.end) * ROW_HEIGHT }} aria-hidden="true" />}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const DeviceRow = memo(function DeviceRow({ row, catalog }: { row: FleetRow; catalog: Catalog | null }) {
  const { t, value, num } = useI18n();
  const { device, worst, alert } = row;
  const href = routeHref({ page: 'device', deviceId: device.device_id });
  return (
    <tr
      className={`row-${row.condition} ${device.status === 'stale' ? 'row-stale' : ''}`}
      style={{ height: ROW_HEIGHT }}
      data-testid="device-row"
      data-device-id={device.device_id}
      data-condition={row.condition}
      onClick={(e) => {
        if (!(e.target instanceof HTMLAnchorElement)) navigate({ page: 'device', deviceId: device.device_id });
      }}
    >
      <td>
        <DeviceStatusBadge status={device.status} />
      </td>
      <th scope="row">
        <a href={href}>{device.device_id}</a>
      </th>
      {valueColumns.map((metric) => (
        <td key={metric} className="num" data-metric={metric}>
          {value(device.values[metric], unitOf(metric, catalog))}
        </td>
      ))}
      <td>
        {worst && worst.severity !== 'normal' ? (
          <span className={`sev-text-${worst.severity}`}>
            {metricName(worst.metric, t)} {value(worst.value, worst.unit)}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="num" data-testid="device-score">
        <span className={row.scoreSeverity !== 'normal' ? `sev-text-${row.scoreSeverity}` : ''}>{num(device.anomaly_score, 1)}</span>{' '}
        <SeverityBadge severity={row.scoreSeverity} quiet />
      </td>
      <td>
        {alert ? (
          <a href={routeHref({ page: 'alerts', alertId: alert.id })} className="alert-link" data-testid="device-alert" data-alert-id={alert.id}>
            <SeverityBadge severity={alert.severity} /> <AlertStatusBadge status={alert.status} />
          </a>
        ) : (
          <span className="muted">{t.noAlert}</span>
        )}
      </td>
      <td>
        <RelativeTime iso={device.last_seen} />
      </td>
    </tr>
  );
});
