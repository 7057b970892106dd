// Device view: its open alert with actions on top, then one chart per metric group on a shared
// time axis with limit lines and alert episodes, a time-range picker, a live tail, and the
// Grafana dashboard when the server names one.
import { useMemo, useState } from 'react';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useLoad } from '../hooks';
import { chartGroups, episodes, grafanaUrl, ranges, tailInterval, unitOf, type RangeId } from '../logic/charts';
import { routeHref } from '../logic/routes';
import { useShared, useStream } from '../state';
import { MetricChart } from '../components/MetricChart';
import { SeverityBadge } from '../components/SeverityBadge';
import { AlertStatusBadge, DeviceStatusBadge } from '../components/StatusBadges';
import { Empty, ErrorNotice, RelativeTime, Skeleton } from '../components/Feedback';
import { AlertActions } from '../components/AlertActions';
import { alertSummary, metricName } from '../logic/summary';

const rangeIds = Object.keys(ranges) as RangeId[];
const allMetrics = chartGroups.flatMap((g) => g.metrics);
const metricOrder = (metric: string) => {
  const index = allMetrics.indexOf(metric);
  return index < 0 ? allMetrics.length : index;
};

export function DeviceView({ deviceId }: { deviceId: string }) {
  const { t, value, lang } = useI18n();
  const { catalog, settings } = useShared();
  const stream = useStream();
  const [range, setRange] = useState<RangeId>('1h');
  const [live, setLive] = useState(true);
  const [grafana, setGrafana] = useState(false);

  const summary = useLoad((signal) => api.device(deviceId, signal), `device/${deviceId}`, 5_000);
  const device = summary.data ?? null;
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
  );
  const openAlerts = useMemo(
    () => [...stream.open.values()].filter((a) => a.device_id === deviceId).sort((a, b) => b.id - a.id),
    [stream.open, deviceId],
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
      <h1 id="device-title">{t.deviceTitle(deviceId)}</h1>
      {device ? (
        <div className="device-summary" data-testid="device-summary">
          <DeviceStatusBadge status={device.status} />
          <span>
            {t.deviceLastSeen}: <RelativeTime iso={device.last_seen} />
          </span>
          {Object.entries(device.values)
            .sort(([a], [b]) => metricOrder(a) - metricOrder(b))
            .map(([metric, v]) => (
            <span key={metric} className="reading" data-metric={metric}>
              {metricName(metric, t)} <strong>{value(v, unitOf(metric, catalog))}</strong>
            </span>
          ))}
        </div>
      ) : summary.data === null ? (
        <Empty>{t.deviceUnknown}</Empty>
      ) : null}

      {openAlerts.map((alert) => (
        <div key={alert.id} className={`open-alert open-alert-${alert.severity}`} data-testid="device-open-alert" data-alert-id={alert.id}>
          <div>
            <SeverityBadge severity={alert.severity} /> <AlertStatusBadge status={alert.status} />{' '}
            <a href={routeHref({ page: 'alerts', alertId: alert.id })}>#{alert.id}</a> · <RelativeTime iso={alert.raised_at} />
          </div>
          <p>{alert.narrative ?? alertSummary(alert, lang, t)}</p>
          <AlertActions targets={[alert]} compact />
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
      {!catalog || (!readings.data && !readings.error) ? (
        <Skeleton rows={6} />
      ) : (
        readings.data && (
          <div className="charts">
            {chartGroups.map((group) => (
              <MetricChart
                key={group.id}
                group={group}
                series={readings.data!.series}
                catalog={catalog}
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
