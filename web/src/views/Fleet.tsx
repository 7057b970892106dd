// Fleet overview: every device with status, name, location, line and profile, latest values
// with units, score by severity (against its profile's limits) and its open alert; filters, sort
// (abnormal first) and grouping by location and/or line. Values are polled, alerts come live
// from /ws. Only the rows in view are rendered (group headers included), so 1,000 devices stay
// smooth.
import { memo, useCallback, useMemo, useRef, useState, type UIEvent } from 'react';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { navigate, useLoad } from '../hooks';
import {
  ANY,
  NONE,
  defaultFleetFilter,
  filterAndSort,
  fleetFacets,
  fleetRows,
  groupRows,
  profileOf,
  visibleWindow,
  type FacetValues,
  type FleetFilter,
  type FleetGroup,
  type FleetItem,
  type FleetRow,
} from '../logic/fleet';
import { DEFAULT_PROFILE } from '../logic/profiles';
import { remember, remembered } from '../logic/storage';
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
const COLUMNS = 9 + valueColumns.length;
const groups: readonly FleetGroup[] = ['none', 'location', 'locationLine', 'line'];

function initialFilter(): FleetFilter {
  const group = remembered('fleetGroup') as FleetGroup | null;
  return { ...defaultFleetFilter, group: group && groups.includes(group) ? group : 'none' };
}

export function FleetView() {
  const { t, num } = useI18n();
  const { catalog } = useShared();
  const stream = useStream();
  const devices = useLoad((signal) => api.allDevices(signal), 'fleet', POLL_MS);
  const [filter, setFilter] = useState<FleetFilter>(initialFilter);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [scroll, setScroll] = useState({ top: 0, height: 800 });
  const scroller = useRef<HTMLDivElement>(null);

  const rows = useMemo(
    () => fleetRows(devices.data?.devices ?? [], catalog, stream.synced ? stream.open : null),
    [devices.data, catalog, stream.open, stream.synced],
  );
  const shown = useMemo(() => filterAndSort(rows, filter), [rows, filter]);
  const items = useMemo(() => groupRows(shown, filter.group, collapsed), [shown, filter.group, collapsed]);
  const facets = useMemo(
    () => fleetFacets(devices.data?.devices ?? [], filter),
    // Only the location, line and profile choices change what the selects offer.
    [devices.data, filter.location, filter.line, filter.profile],
  );
  const window = visibleWindow(items.length, scroll.top, scroll.height, ROW_HEIGHT);
  const onScroll = (e: UIEvent<HTMLDivElement>) =>
    setScroll({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight });
  const set = (patch: Partial<FleetFilter>) => {
    setFilter((f) => ({ ...f, ...patch }));
    if (patch.group) remember('fleetGroup', patch.group);
    scroller.current?.scrollTo({ top: 0 });
  };
  const toggle = useCallback((key: string) => {
    setCollapsed((keys) => {
      const next = new Set(keys);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  }, []);
  const profileLabel = (name: string) => (name === DEFAULT_PROFILE ? t.profileDefault : name);

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
        <FacetSelect label={t.fleetFilterLocation} value={filter.location} facet={facets.locations} testId="fleet-filter-location" onChange={(location) => set({ location })} />
        <FacetSelect label={t.fleetFilterLine} value={filter.line} facet={facets.lines} testId="fleet-filter-line" onChange={(line) => set({ line })} />
        <label>
          {t.fleetFilterProfile}
          <select value={filter.profile} onChange={(e) => set({ profile: e.target.value })} data-testid="fleet-filter-profile">
            <option value={ANY}>{t.filterAll}</option>
            {facets.profiles.map((name) => (
              <option key={name} value={name}>
                {profileLabel(name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.fleetGroup}
          <select value={filter.group} onChange={(e) => set({ group: e.target.value as FleetGroup })} data-testid="fleet-group-by">
            {groups.map((g) => (
              <option key={g} value={g}>
                {t[`group_${g}`]}
              </option>
            ))}
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
                <th scope="col">{t.columnLocation}</th>
                <th scope="col">{t.columnLine}</th>
                <th scope="col">{t.columnProfile}</th>
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
              {items.slice(window.start, window.end).map((item) =>
                item.kind === 'device' ? (
                  <DeviceRow key={item.row.device.device_id} row={item.row} catalog={catalog} />
                ) : (
                  <GroupRow key={item.key} item={item} onToggle={toggle} />
                ),
              )}
              {window.end < items.length && <tr style={{ height: (items.length - window.end) * ROW_HEIGHT }} aria-hidden="true" />}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A location or line select: any, each value present, and "not set" when some device has none. */
function FacetSelect({ label, value, facet, testId, onChange }: { label: string; value: string; facet: FacetValues; testId: string; onChange(value: string): void }) {
  const { t } = useI18n();
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value={ANY}>{t.filterAll}</option>
        {facet.values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
        {facet.unset && <option value={NONE}>{t.filterNotSet}</option>}
      </select>
    </label>
  );
}

type GroupItem = Extract<FleetItem, { kind: 'group' }>;

const GroupRow = memo(function GroupRow({ item, onToggle }: { item: GroupItem; onToggle(key: string): void }) {
  const { t, num } = useI18n();
  const label =
    item.value === null
      ? item.by === 'location'
        ? t.groupUnset_location
        : t.groupUnset_line
      : item.by === 'location'
        ? t.groupLabel_location(item.value)
        : t.groupLabel_line(item.value);
  return (
    <tr
      className={`group-row group-level-${item.level}`}
      style={{ height: ROW_HEIGHT }}
      data-testid="group-row"
      data-group-key={item.key}
      data-group-by={item.by}
      data-group-value={item.value ?? ''}
      data-count={item.count}
    >
      <th scope="colgroup" colSpan={COLUMNS}>
        <button type="button" className="group-toggle" aria-expanded={!item.collapsed} onClick={() => onToggle(item.key)}>
          <span aria-hidden="true">{item.collapsed ? '▸' : '▾'} </span>
          {label}
        </button>
        <span className="muted group-count">{t.groupDevices(num(item.count))}</span>
        {item.critical > 0 && <span className="badge sev-critical">{t.openCritical(num(item.critical))}</span>}
        {item.warning > 0 && <span className="badge sev-warning">{t.openWarning(num(item.warning))}</span>}
        {item.stale > 0 && <span className="status-stale group-stale">{t.groupStale(num(item.stale))}</span>}
      </th>
    </tr>
  );
});

const DeviceRow = memo(function DeviceRow({ row, catalog }: { row: FleetRow; catalog: Catalog | null }) {
  const { t, value, num } = useI18n();
  const { device, worst, alert } = row;
  const href = routeHref({ page: 'device', deviceId: device.device_id });
  const profile = profileOf(device);
  const unset = <span className="muted">{t.notSet}</span>;
  return (
    <tr
      className={`row-${row.condition} ${device.status === 'stale' ? 'row-stale' : ''}`}
      style={{ height: ROW_HEIGHT }}
      data-testid="device-row"
      data-device-id={device.device_id}
      data-condition={row.condition}
      data-location={device.location ?? ''}
      data-line={device.line ?? ''}
      data-profile={profile}
      onClick={(e) => {
        if (!(e.target instanceof HTMLAnchorElement)) navigate({ page: 'device', deviceId: device.device_id });
      }}
    >
      <td>
        <DeviceStatusBadge status={device.status} />
      </td>
      <th scope="row" className="cut" title={device.device_id}>
        <a href={href}>{device.device_id}</a>
        {device.name && (
          <span className="device-name" data-testid="device-name" title={device.name}>
            {device.name}
          </span>
        )}
      </th>
      <td data-field="location" className="cut" title={device.location || undefined}>
        {device.location || unset}
      </td>
      <td data-field="line" className="cut" title={device.line || undefined}>
        {device.line || unset}
      </td>
      <td data-field="profile">
        {profile === DEFAULT_PROFILE ? <span className="muted">{t.profileDefault}</span> : <span className="profile">{profile}</span>}
      </td>
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
