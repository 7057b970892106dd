// Fleet table logic: each device's condition (from its open alert, else its score and its
// profile's limits), filtering (id or name, status, condition, location, line, profile) and
// sorting with the abnormal ones first, and grouping by location and/or line into one flat list
// of header and device rows that the table renders a window of.
import type { Alert, Catalog, Device, Severity } from '../api/types';
import { DEFAULT_PROFILE, profileCatalog } from './profiles';

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
    // Each device is judged by its own profile's score and metric limits.
    const limits = catalog ? profileCatalog(catalog, device.profile) : null;
    const live = liveByDevice.get(device.device_id);
    const alert = openAlerts
      ? live
        ? { id: live.id, severity: live.severity, status: live.status }
        : null
      : device.alert ?? null;
    const scoreSeverity = scoreCondition(device.anomaly_score, limits);
    const worst = worstMetric(device.values, limits);
    let condition = worse(scoreSeverity, worst?.severity ?? 'normal');
    if (alert) condition = worse(condition, alert.severity);
    return { device, condition, scoreSeverity, worst, alert };
  });
}

export type StatusFilter = 'all' | 'online' | 'stale';
export type ConditionFilter = 'all' | 'abnormal' | Condition;
export type FleetSort = 'abnormal' | 'id' | 'score' | 'lastSeen';
export type FleetGroup = 'none' | 'location' | 'locationLine' | 'line';

/** Filter values for location, line and profile: any value, none set, or this value. Neither
 *  sentinel can be a tag value (those start with a letter or digit). */
export const ANY = '*';
export const NONE = '-';

export interface FleetFilter {
  /** Part of the device id or name. */
  text: string;
  status: StatusFilter;
  condition: ConditionFilter;
  /** ANY, NONE or a location. */
  location: string;
  /** ANY, NONE or a line. */
  line: string;
  /** ANY or a profile name. */
  profile: string;
  sort: FleetSort;
  group: FleetGroup;
}

export const defaultFleetFilter: FleetFilter = {
  text: '',
  status: 'all',
  condition: 'all',
  location: ANY,
  line: ANY,
  profile: ANY,
  sort: 'abnormal',
  group: 'none',
};

function matchesValue(value: string | null | undefined, wanted: string): boolean {
  if (wanted === ANY) return true;
  if (wanted === NONE) return !value;
  return value === wanted;
}

export function profileOf(device: Device): string {
  return device.profile || DEFAULT_PROFILE;
}

export function matches(row: FleetRow, filter: FleetFilter): boolean {
  const { device } = row;
  if (filter.status !== 'all' && device.status !== filter.status) return false;
  if (filter.condition === 'abnormal' && row.condition === 'normal') return false;
  if (filter.condition !== 'all' && filter.condition !== 'abnormal' && row.condition !== filter.condition) return false;
  if (!matchesValue(device.location, filter.location)) return false;
  if (!matchesValue(device.line, filter.line)) return false;
  if (filter.profile !== ANY && profileOf(device) !== filter.profile) return false;
  const text = filter.text.trim().toLowerCase();
  return text === '' || device.device_id.toLowerCase().includes(text) || (device.name ?? '').toLowerCase().includes(text);
}

const collator = new Intl.Collator(undefined, { numeric: true });

/** Values in a natural order (line-2 before line-10). */
export function compareValues(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export interface FacetValues {
  values: string[];
  /** Some device has no value. */
  unset: boolean;
}

export interface Facets {
  locations: FacetValues;
  /** Lines of the devices in the chosen location (all lines when any location is chosen). */
  lines: FacetValues;
  profiles: string[];
}

function facet(devices: readonly Device[], value: (d: Device) => string | null | undefined, selected: string): FacetValues {
  const seen = new Set<string>();
  let unset = false;
  for (const device of devices) {
    const v = value(device);
    if (v) seen.add(v);
    else unset = true;
  }
  // The chosen value stays choosable when its devices have gone (moved or filtered away).
  if (selected !== ANY && selected !== NONE) seen.add(selected);
  return { values: [...seen].sort(compareValues), unset: unset || selected === NONE };
}

/** What the location, line and profile selects offer: the values of the devices present. */
export function fleetFacets(devices: readonly Device[], filter: FleetFilter): Facets {
  const inLocation = filter.location === ANY ? devices : devices.filter((d) => matchesValue(d.location, filter.location));
  const profiles = new Set(devices.map(profileOf));
  if (filter.profile !== ANY) profiles.add(filter.profile);
  return {
    locations: facet(devices, (d) => d.location, filter.location),
    lines: facet(inLocation, (d) => d.line, filter.line),
    profiles: [...profiles].sort(compareValues),
  };
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

/** A row of the fleet table: a group's header or a device. */
export type FleetItem =
  | {
      kind: 'group';
      /** Unique among the items: "location:<value>", "line:<value>", "location:<value>/line:<value>" ("" for none). */
      key: string;
      by: 'location' | 'line';
      /** null: the devices without one. */
      value: string | null;
      level: 1 | 2;
      count: number;
      critical: number;
      warning: number;
      stale: number;
      collapsed: boolean;
    }
  | { kind: 'device'; row: FleetRow };

type GroupItem = Extract<FleetItem, { kind: 'group' }>;

function bucket(rows: readonly FleetRow[], value: (d: Device) => string | null | undefined): [string | null, FleetRow[]][] {
  const buckets = new Map<string | null, FleetRow[]>();
  for (const row of rows) {
    const key = value(row.device) || null;
    const list = buckets.get(key);
    if (list) list.push(row);
    else buckets.set(key, [row]);
  }
  // By value, the devices without one last; rows keep the order they came in (the chosen sort).
  return [...buckets.entries()].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : compareValues(a, b)));
}

function header(key: string, by: 'location' | 'line', value: string | null, level: 1 | 2, rows: readonly FleetRow[], collapsed: ReadonlySet<string>): GroupItem {
  let critical = 0;
  let warning = 0;
  let stale = 0;
  for (const row of rows) {
    if (row.condition === 'critical') critical++;
    else if (row.condition === 'warning') warning++;
    if (row.device.status === 'stale') stale++;
  }
  return { kind: 'group', key, by, value, level, count: rows.length, critical, warning, stale, collapsed: collapsed.has(key) };
}

/**
 * The table's rows for the sorted, filtered `rows`: as they are, or under a header per location,
 * per line, or per location then line. A collapsed group keeps its header (with its counts) and
 * hides what is under it.
 */
export function groupRows(rows: readonly FleetRow[], group: FleetGroup, collapsed: ReadonlySet<string> = new Set()): FleetItem[] {
  if (group === 'none') return rows.map((row) => ({ kind: 'device', row }));
  const items: FleetItem[] = [];
  const by = group === 'line' ? 'line' : 'location';
  for (const [value, members] of bucket(rows, (d) => (by === 'line' ? d.line : d.location))) {
    const key = `${by}:${value ?? ''}`;
    const head = header(key, by, value, 1, members, collapsed);
    items.push(head);
    if (head.collapsed) continue;
    if (group !== 'locationLine') {
      for (const row of members) items.push({ kind: 'device', row });
      continue;
    }
    for (const [line, inLine] of bucket(members, (d) => d.line)) {
      const sub = header(`${key}/line:${line ?? ''}`, 'line', line, 2, inLine, collapsed);
      items.push(sub);
      if (!sub.collapsed) for (const row of inLine) items.push({ kind: 'device', row });
    }
  }
  return items;
}
