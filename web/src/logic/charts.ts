// What the device view draws: metric groups (one chart each), the catalog's warning and
// critical limits as reference lines, alert episodes as shaded spans, and the series data.
import type { Alert, Catalog, ReadingSeries, Severity } from '../api/types';

export type GroupId = 'climate' | 'vibration' | 'sound' | 'accel' | 'gyro' | 'score';

export interface ChartGroup {
  id: GroupId;
  metrics: string[];
  /** Metrics drawn on the second (right) axis: humidity next to temperature. */
  rightAxis?: string[];
}

export const chartGroups: readonly ChartGroup[] = [
  { id: 'climate', metrics: ['temperature', 'humidity'], rightAxis: ['humidity'] },
  { id: 'vibration', metrics: ['vibration'] },
  { id: 'sound', metrics: ['sound'] },
  { id: 'accel', metrics: ['accel_x', 'accel_y', 'accel_z'] },
  { id: 'gyro', metrics: ['gyro_x', 'gyro_y', 'gyro_z'] },
  { id: 'score', metrics: ['anomaly_score'] },
];

export type Axis = 'y' | 'y2';

export interface LimitLine {
  axis: Axis;
  level: Severity;
  bound: 'high' | 'low';
  value: number;
  unit: string;
  /** Metrics whose limit this is (several when they share it, e.g. accel x and y). */
  metrics: string[];
}

/** The catalog's limits of a group's metrics; metrics sharing the same limit share one line. */
export function limitLines(group: ChartGroup, catalog: Catalog): LimitLine[] {
  const lines: LimitLine[] = [];
  const add = (metric: string, axis: Axis, level: Severity, bound: 'high' | 'low', value: number | undefined, unit: string) => {
    if (value === undefined || !Number.isFinite(value)) return;
    const same = lines.find((l) => l.axis === axis && l.level === level && l.bound === bound && l.value === value);
    if (same) same.metrics.push(metric);
    else lines.push({ axis, level, bound, value, unit, metrics: [metric] });
  };
  for (const metric of group.metrics) {
    const axis: Axis = group.rightAxis?.includes(metric) ? 'y2' : 'y';
    if (metric === 'anomaly_score') {
      add(metric, axis, 'warning', 'high', catalog.score.warning, '');
      add(metric, axis, 'critical', 'high', catalog.score.critical, '');
      continue;
    }
    const entry = catalog.metrics.find((m) => m.metric === metric);
    if (!entry) continue;
    for (const level of ['warning', 'critical'] as const) {
      add(metric, axis, level, 'high', entry[level].high, entry.unit);
      add(metric, axis, level, 'low', entry[level].low, entry.unit);
    }
  }
  return lines;
}

export function unitOf(metric: string, catalog: Catalog | null): string {
  return catalog?.metrics.find((m) => m.metric === metric)?.unit ?? '';
}

/** The y range that shows the data and every limit line of the axis. */
export function axisRange(values: readonly (number | null)[], lines: readonly LimitLine[]): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  for (const line of lines) {
    min = Math.min(min, line.value);
    max = Math.max(max, line.value);
  }
  if (!Number.isFinite(min)) return null;
  const pad = (max - min || Math.abs(max) || 1) * 0.05;
  return { min: min - pad, max: max + pad };
}

export interface Episode {
  alertId: number;
  severity: Severity;
  start: number;
  end: number;
}

/**
 * Alert episodes overlapping [from, to]: from raised until the condition cleared (or resolved),
 * still running when neither happened.
 */
export function episodes(alerts: readonly Alert[], from: number, to: number, now: number): Episode[] {
  const spans: Episode[] = [];
  for (const alert of alerts) {
    const start = Date.parse(alert.raised_at);
    const endText = alert.cleared_at ?? alert.resolved_at;
    const end = endText ? Date.parse(endText) : now;
    if (Number.isNaN(start) || end < from || start > to) continue;
    spans.push({ alertId: alert.id, severity: alert.severity, start: Math.max(start, from), end: Math.min(end, to) });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** One metric's points ({x: ms, y}) from the readings answer; buckets without data are skipped. */
export function seriesPoints(series: ReadingSeries, metric: string): { x: number; y: number }[] {
  const column = series.columns.indexOf(metric);
  if (column < 0) return [];
  const points: { x: number; y: number }[] = [];
  series.values.forEach((row, i) => {
    const y = row[column];
    const x = Date.parse(series.times[i]);
    if (y !== null && y !== undefined && !Number.isNaN(x)) points.push({ x, y });
  });
  return points;
}

export type RangeId = '15m' | '1h' | '6h' | '24h' | '7d';

export const ranges: Record<RangeId, number> = {
  '15m': 15 * 60_000,
  '1h': 3600_000,
  '6h': 6 * 3600_000,
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
};

/** How often the live tail refreshes a range: about one bucket of 300 points, at least 5 s. */
export function tailInterval(range: RangeId): number {
  return Math.max(5_000, Math.round(ranges[range] / 300));
}

const timeSteps = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/** A round tick step for a time axis of `spanMs`: about `ticks` ticks at whole minutes/hours/days. */
export function timeStep(spanMs: number, ticks = 6): number {
  const wanted = spanMs / ticks;
  return timeSteps.find((step) => step >= wanted) ?? timeSteps[timeSteps.length - 1];
}

/** The Grafana dashboard URL for a device: var-device, time range, kiosk mode. */
export function grafanaUrl(base: string, dashboard: string, device: string, range: RangeId): string {
  const root = base.replace(/\/+$/, '');
  const query = `orgId=1&var-device=${encodeURIComponent(device)}&from=now-${range}&to=now&kiosk`;
  return `${root}/d/${encodeURIComponent(dashboard)}?${query}`;
}
