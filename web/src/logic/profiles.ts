// Device profiles: which limits judge a device. The catalog's top-level score and metrics are the
// default profile's; `catalog.profiles[name]` holds each profile resolved over them. A profile's
// limits are handed around as a Catalog of their own, so charts and fleet logic need no change.
import type { Catalog, Severity } from '../api/types';

export const DEFAULT_PROFILE = 'default';

/** The profiles an operator can choose: "default" first, then the others by name. */
export function profileNames(catalog: Catalog | null): string[] {
  const names = Object.keys(catalog?.profiles ?? {}).filter((name) => name !== DEFAULT_PROFILE);
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [DEFAULT_PROFILE, ...names];
}

export function hasProfile(catalog: Catalog | null, name: string | null | undefined): boolean {
  if (!name || name === DEFAULT_PROFILE) return true;
  return catalog?.profiles?.[name] !== undefined;
}

// One Catalog object per (catalog, profile): the same object every time, so React memos and
// charts keyed on it do not redraw for nothing.
const views = new WeakMap<Catalog, Map<string, Catalog>>();

/**
 * The limits a device with `profile` is judged by, as a Catalog: the profile's score and
 * metrics, or the default's when the device has no profile or the catalog does not know it.
 */
export function profileCatalog(catalog: Catalog, profile: string | null | undefined): Catalog {
  const entry = profile && profile !== DEFAULT_PROFILE ? catalog.profiles?.[profile] : undefined;
  if (!entry) return catalog;
  let byName = views.get(catalog);
  if (!byName) {
    byName = new Map();
    views.set(catalog, byName);
  }
  let view = byName.get(profile!);
  if (!view) {
    view = { ...catalog, score: entry.score, metrics: entry.metrics };
    byName.set(profile!, view);
  }
  return view;
}

export interface LimitChange {
  /** A metric name, or "anomaly_score". */
  metric: string;
  level: Severity;
  bound: 'high' | 'low';
  /** null: the profile has no such limit where the default has one. */
  value: number | null;
  /** null: the default has no such limit. */
  was: number | null;
  unit: string;
}

/** Where a profile's limits differ from the default's, in catalog order (for the edit form). */
export function profileChanges(catalog: Catalog, profile: string): LimitChange[] {
  const view = profileCatalog(catalog, profile);
  if (view === catalog) return [];
  const changes: LimitChange[] = [];
  for (const level of ['warning', 'critical'] as const) {
    if (view.score[level] !== catalog.score[level]) {
      changes.push({ metric: 'anomaly_score', level, bound: 'high', value: view.score[level], was: catalog.score[level], unit: '' });
    }
  }
  for (const entry of view.metrics) {
    const base = catalog.metrics.find((m) => m.metric === entry.metric);
    for (const level of ['warning', 'critical'] as const) {
      for (const bound of ['high', 'low'] as const) {
        const value = entry[level][bound] ?? null;
        const was = base?.[level][bound] ?? null;
        if (value !== was) changes.push({ metric: entry.metric, level, bound, value, was, unit: entry.unit });
      }
    }
  }
  return changes;
}
