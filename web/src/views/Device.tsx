// Device view: its registry entry (name, location, line, profile, labels) with an Edit form (or
// Register, for a device the server does not know), its open alert with actions, then one chart
// per metric group on a shared time axis with its profile's limit lines and alert episodes, a
// time-range picker, a live tail, and the Grafana dashboard when the server names one.
import { useMemo, useState } from 'react';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useLoad } from '../hooks';
import { chartGroups, episodes, grafanaUrl, ranges, tailInterval, unitOf, type RangeId } from '../logic/charts';
import { routeHref } from '../logic/routes';
import { useShared, useStream, useUser } from '../state';
import { deniedReason } from '../logic/permissions';
import { MetricChart } from '../components/MetricChart';
import { SeverityBadge } from '../components/SeverityBadge';
import { AlertStatusBadge, DeviceStatusBadge } from '../components/StatusBadges';
import { Empty, ErrorNotice, RelativeTime, Skeleton } from '../components/Feedback';
import { AlertActions } from '../components/AlertActions';
import { latest } from '../logic/alertActions';
import { DeviceEditor } from '../components/DeviceEditor';
import { alertSummary, metricName } from '../logic/summary';
import { DEFAULT_PROFILE, hasProfile, profileCatalog } from '../logic/profiles';
import type { Alert, Device } from '../api/types';

const rangeIds = Object.keys(ranges) as RangeId[];
const allMetrics = chartGroups.flatMap((g) => g.metrics);
const metricOrder = (metric: string) => {
  const index = allMetrics.indexOf(metric);
  return index < 0 ? allMetrics.length : index;
};

export function DeviceView({ deviceId }: { deviceId: string }) {
  const { t, value, lang, dateTime } = useI18n();
  const { catalog, settings } = useShared();
  const user = useUser();
  const editDenied = deniedReason(user?.role, 'editDevice', t);
  const stream = useStream();
  const [range, setRange] = useState<RangeId>('1h');
  const [live, setLive] = useState(true);
  const [grafana, setGrafana] = useState(false);

  const summary = useLoad((signal) => api.device(deviceId, signal), `device/${deviceId}`, 5_000);
  const [editing, setEditing] = useState(false);
  // What the PUT answered, shown until the next poll brings the same (or newer).
  const [saved, setSaved] = useState<{ device: Device; at: number; registered: boolean } | null>(null);
  const fresh = saved && (summary.at ?? 0) < saved.at ? saved.device : null;
  const device = fresh ?? summary.data ?? null;
  const unknown = !device && summary.at !== null && summary.data === null;
  const profile = device?.profile || DEFAULT_PROFILE;
  const profileLabel = (name: string) => (name === DEFAULT_PROFILE ? t.profileDefault : name);
  // The charts draw the limits of the device's profile.
  const limits = useMemo(() => (catalog ? profileCatalog(catalog, profile) : null), [catalog, profile]);
  const readings = useLoad(
    async (signal) => {
      const to = Date.now();
      const from = to - ranges[range];
      const series = await api.readings(
        { device: deviceId, metrics: allMetrics, from: new Date(from).toISOString(), to: new Date(to).toISOString(), points: 300 },
        signal,
      );
      return { series, from, to };
    },
    `${deviceId}/${range}`,
    live ? tailInterval(range) : undefined,
    // A registered device's first readings show at once, not at the next tail refresh.
    device?.readings === 0 ? 'registered' : 'heard',
  );
  // The answers to this page's own actions, until the stream says the same (it may be reconnecting).
  const [acted, setActed] = useState<ReadonlyMap<number, Alert>>(new Map());
  const openAlerts = useMemo(
    () =>
      [...stream.open.values()]
        .filter((a) => a.device_id === deviceId)
        .map((a) => latest(a, acted.get(a.id)))
        .filter((a) => a.status !== 'resolved')
        .sort((a, b) => b.id - a.id),
    [stream.open, deviceId, acted],
  );
  // Episodes are reloaded when this device's open alerts change (raised, escalated, closed).
  const openKey = openAlerts.map((a) => `${a.id}${a.severity}${a.status}`).join();
  const alerts = useLoad((signal) => api.alerts({ device: deviceId, limit: 200 }, signal), `alerts/${deviceId}`, undefined, openKey);
  const spans = useMemo(() => {
    if (!readings.data) return [];
    return episodes(alerts.data?.alerts ?? [], readings.data.from, readings.data.to, Date.now());
  }, [alerts.data, readings.data]);

  return (
    <section className="page device" aria-labelledby="device-title">
      <p>
        <a href={routeHref({ page: 'fleet' })}>← {t.deviceBack}</a>
      </p>
      <h1 id="device-title">
        {t.deviceTitle(deviceId)}
        {device?.name && (
          <span className="title-name" data-testid="device-title-name">
            {device.name}
          </span>
        )}
      </h1>
      {device ? (
        <div className="device-summary" data-testid="device-summary">
          <DeviceStatusBadge status={device.status} />
          <span>
            {t.deviceLastSeen}: <RelativeTime iso={device.last_seen} />
          </span>
          {device.readings === 0 && <span className="muted">{t.deviceNoReadings}</span>}
          {Object.entries(device.values)
            .sort(([a], [b]) => metricOrder(a) - metricOrder(b))
            .map(([metric, v]) => (
            <span key={metric} className="reading" data-metric={metric}>
              {metricName(metric, t)} <strong>{value(v, unitOf(metric, limits))}</strong>
            </span>
          ))}
        </div>
      ) : unknown ? (
        <Empty>{t.deviceUnknown}</Empty>
      ) : null}

      {device && (
        <div className="device-meta-row">
          <dl className="device-meta" data-testid="device-meta" data-profile={profile} data-location={device.location ?? ''} data-line={device.line ?? ''}>
            <div>
              <dt>{t.deviceName}</dt>
              <dd data-testid="meta-name">{device.name || t.notSet}</dd>
            </div>
            <div>
              <dt>{t.deviceLocation}</dt>
              <dd data-testid="meta-location">{device.location || t.notSet}</dd>
            </div>
            <div>
              <dt>{t.deviceLine}</dt>
              <dd data-testid="meta-line">{device.line || t.notSet}</dd>
            </div>
            <div>
              <dt>{t.deviceProfile}</dt>
              <dd data-testid="meta-profile">{profileLabel(profile)}</dd>
            </div>
            <div>
              <dt>{t.deviceLabels}</dt>
              <dd data-testid="meta-labels">
                {Object.keys(device.labels ?? {}).length === 0
                  ? t.notSet
                  : Object.entries(device.labels)
                      .sort(([a], [b]) => (a < b ? -1 : 1))
                      .map(([key, v]) => (
                        <span key={key} className="label-chip" data-label={key}>
                          {key}: {v}
                        </span>
                      ))}
              </dd>
            </div>
            {device.first_seen && (
              <div>
                <dt>{t.deviceFirstSeen}</dt>
                <dd>
                  <time dateTime={device.first_seen}>{dateTime(device.first_seen)}</time>
                </dd>
              </div>
            )}
          </dl>
          {!editing && catalog && (
            <div className="edit-control">
              <button
                type="button"
                onClick={() => setEditing(true)}
                disabled={editDenied !== null}
                aria-describedby={editDenied ? 'device-edit-reason' : undefined}
                title={editDenied ?? undefined}
                data-testid="device-edit"
              >
                {t.deviceEdit}
              </button>
              {editDenied && (
                <p className="role-reason" id="device-edit-reason" data-testid="role-reason">
                  {editDenied}
                </p>
              )}
            </div>
          )}
        </div>
      )}
      {unknown && !editing && catalog && (
        <div className="edit-control">
          <button
            type="button"
            onClick={() => setEditing(true)}
            disabled={editDenied !== null}
            aria-describedby={editDenied ? 'device-register-reason' : undefined}
            title={editDenied ?? undefined}
            data-testid="device-register"
          >
            {t.deviceRegister}
          </button>
          {editDenied && (
            <p className="role-reason" id="device-register-reason" data-testid="role-reason">
              {editDenied}
            </p>
          )}
        </div>
      )}
      {saved && !editing && (
        <div className="notice notice-ok" role="status" data-testid="save-result">
          {(saved.registered ? t.formRegistered : t.formSaved)(profileLabel(saved.device.profile || DEFAULT_PROFILE))}
        </div>
      )}
      {editing && catalog && (
        <DeviceEditor
          deviceId={deviceId}
          device={device}
          catalog={catalog}
          onCancel={() => setEditing(false)}
          onSaved={(next) => {
            setSaved({ device: next, at: Date.now(), registered: !device });
            setEditing(false);
            summary.reload();
          }}
        />
      )}

      {openAlerts.map((alert) => (
        <div key={alert.id} className={`open-alert open-alert-${alert.severity}`} data-testid="device-open-alert" data-alert-id={alert.id}>
          <div>
            <SeverityBadge severity={alert.severity} /> <AlertStatusBadge status={alert.status} />{' '}
            <a href={routeHref({ page: 'alerts', alertId: alert.id })}>#{alert.id}</a> · <RelativeTime iso={alert.raised_at} />
          </div>
          <p>{alert.narrative ?? alertSummary(alert, lang, t)}</p>
          <AlertActions
            targets={[alert]}
            compact
            onDone={(changed) => setActed((before) => new Map([...before, ...changed.map((a) => [a.id, a] as const)]))}
          />
        </div>
      ))}

      <div className="toolbar">
        <fieldset className="segmented" data-testid="range-picker">
          <legend>{t.timeRange}</legend>
          {rangeIds.map((id) => (
            <label key={id} className={range === id ? 'selected' : ''}>
              <input type="radio" name="range" value={id} checked={range === id} onChange={() => setRange(id)} />
              {t[`range_${id}`]}
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} data-testid="live-tail" />
          {t.liveTail}
        </label>
        <span className="muted episodes-legend">
          <span className="swatch" aria-hidden="true" /> {t.episodesLegend}
        </span>
        {device && (
          <span className={hasProfile(catalog, profile) ? 'muted' : 'sev-text-warning'} data-testid="chart-profile" data-profile={profile}>
            {hasProfile(catalog, profile) ? t.chartsProfile(profileLabel(profile)) : t.chartsProfileMissing(profile)}
          </span>
        )}
        {readings.data?.series.tier === 'long_term' && (
          <span className="muted" data-testid="tier-note">
            {t.longTermNote}
          </span>
        )}
        {settings.grafana && (
          <button type="button" onClick={() => setGrafana((g) => !g)} aria-expanded={grafana} data-testid="grafana-toggle">
            {grafana ? t.grafanaHide : t.grafanaShow}
          </button>
        )}
      </div>

      {settings.grafana && grafana && (
        <iframe
          className="grafana"
          title={t.grafanaTitle(deviceId)}
          src={grafanaUrl(settings.grafana.url, settings.grafana.dashboard, deviceId, range)}
          data-testid="grafana-frame"
        />
      )}

      {readings.error != null && <ErrorNotice error={readings.error} onRetry={readings.reload} />}
      {!limits || (!readings.data && !readings.error) ? (
        <Skeleton rows={6} />
      ) : (
        readings.data && (
          <div className="charts">
            {chartGroups.map((group) => (
              <MetricChart
                key={group.id}
                group={group}
                series={readings.data!.series}
                catalog={limits}
                from={readings.data!.from}
                to={readings.data!.to}
                episodes={spans}
                title={t[`group_${group.id}`]}
                rangeLabel={t[`range_${range}`]}
              />
            ))}
          </div>
        )
      )}
    </section>
  );
}
