// Fleet table logic: each device's condition (from its open alert, else its score and limits),
// filtering and sorting with the abnormal ones first.
import type { Alert, Catalog, Device, Severity } from '../api/types';

export type Condition = Severity | 'normal';

export interface FleetRow {
  device: Device;
  /** Worst of: open alert severity, score severity, any metric past its limit. */
  condition: Condition;
  scoreSeverity: Condition;
  /** The metric furthest from nominal (|z|), with its own severity. */
  worst: { metric: string; value: number; unit: string; z: number; severity: Condition } | null;
  alert: { id: number; severity: Severity; status: Alert['status'] } | null;
}

const rank: Record<Condition, number> = { critical: 2, warning: 1, normal: 0 };

export function worse(a: Condition, b: Condition): Condition {
  return rank[a] >= rank[b] ? a : b;
}

export function scoreCondition(score: number, catalog: Catalog | null): Condition {
  if (!catalog) return 'normal';
  if (score >= catalog.score.critical) return 'critical';
  if (score >= catalog.score.warning) return 'warning';
  return 'normal';
}

export function metricCondition(value: number, entry: Catalog['metrics'][number]): Condition {
  const past = (limits: { low?: number; high?: number }) =>
    (limits.high !== undefined && value >= limits.high) || (limits.low !== undefined && value <= limits.low);
  if (past(entry.critical)) return 'critical';
  if (past(entry.warning)) return 'warning';
  return 'normal';
}

export function worstMetric(values: Record<string, number>, catalog: Catalog | null): FleetRow['worst'] {
  if (!catalog) return null;
  let worst: FleetRow['worst'] = null;
  for (const entry of catalog.metrics) {
    const value = values[entry.metric];
    if (value === undefined || entry.nominal === undefined || !entry.scale) continue;
    const z = (value - entry.nominal) / entry.scale;
    const severity = metricCondition(value, entry);
    if (
      worst === null ||
      rank[severity] > rank[worst.severity] ||
      (rank[severity] === rank[worst.severity] && Math.abs(z) > Math.abs(worst.z))
    ) {
      worst = { metric: entry.metric, value, unit: entry.unit, z, severity };
    }
  }
  return worst;
}

/**
 * Rows for the fleet table. `openAlerts` (live, from /ws) overrides the alert the device list
 * had when it was polled, so an alert shows up (or leaves) without waiting for the next poll.
 */
export function fleetRows(
  devices: readonly Device[],
  catalog: Catalog | null,
  openAlerts: ReadonlyMap<number, Alert> | null,
): FleetRow[] {
  const liveByDevice = new Map<string, Alert>();
  if (openAlerts) {
    for (const alert of openAlerts.values()) {
      const current = liveByDevice.get(alert.device_id);
      if (!current || rank[alert.severity] > rank[current.severity] || (alert.severity === current.severity && alert.id > current.id)) {
        liveByDevice.set(alert.device_id, alert);
      }
    }
  }
  return devices.map((device) => {
    const live = liveByDevice.get(device.device_id);
    const alert = openAlerts
      ? live
        ? { id: live.id, severity: live.severity, status: live.status }
        : null
      : device.alert ?? null;
    const scoreSeverity = scoreCondition(device.anomaly_score, catalog);
    const worst = worstMetric(device.values, catalog);
    let condition = worse(scoreSeverity, worst?.severity ?? 'normal');
    if (alert) condition = worse(condition, alert.severity);
    return { device, condition, scoreSeverity, worst, alert };
  });
}

export type StatusFilter = 'all' | 'online' | 'stale';
export type ConditionFilter = 'all' | 'abnormal' | Condition;
export type FleetSort = 'abnormal' | 'id' | 'score' | 'lastSeen';

export interface FleetFilter {
  text: string;
  status: StatusFilter;
  condition: ConditionFilter;
  sort: FleetSort;
}

export const defaultFleetFilter: FleetFilter = { text: '', status: 'all', condition: 'all', sort: 'abnormal' };

export function matches(row: FleetRow, filter: FleetFilter): boolean {
  if (filter.status !== 'all' && row.device.status !== filter.status) return false;
  if (filter.condition === 'abnormal' && row.condition === 'normal') return false;
  if (filter.condition !== 'all' && filter.condition !== 'abnormal' && row.condition !== filter.condition) return false;
  const text = filter.text.trim().toLowerCase();
  return text === '' || row.device.device_id.toLowerCase().includes(text);
}

/** Abnormal first: critical, warning, then stale, then the rest; ties by the chosen order. */
function abnormalRank(row: FleetRow): number {
  if (row.condition === 'critical') return 0;
  if (row.condition === 'warning') return 1;
  return row.device.status === 'stale' ? 2 : 3;
}

const byId = (a: FleetRow, b: FleetRow) => (a.device.device_id < b.device.device_id ? -1 : a.device.device_id > b.device.device_id ? 1 : 0);

export function compareRows(sort: FleetSort): (a: FleetRow, b: FleetRow) => number {
  switch (sort) {
    case 'id':
      return byId;
    case 'score':
      return (a, b) => b.device.anomaly_score - a.device.anomaly_score || byId(a, b);
    case 'lastSeen':
      return (a, b) => Date.parse(b.device.last_seen) - Date.parse(a.device.last_seen) || byId(a, b);
    case 'abnormal':
      return (a, b) =>
        abnormalRank(a) - abnormalRank(b) || b.device.anomaly_score - a.device.anomaly_score || byId(a, b);
  }
}

export function filterAndSort(rows: readonly FleetRow[], filter: FleetFilter): FleetRow[] {
  return rows.filter((row) => matches(row, filter)).sort(compareRows(filter.sort));
}

/** Rows to render for a scroll position: only the visible window plus some overscan. */
export function visibleWindow(
  total: number,
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  overscan = 8,
): { start: number; end: number } {
  const start = Math.min(total, Math.max(0, Math.floor(scrollTop / rowHeight) - overscan));
  const end = Math.min(total, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}
