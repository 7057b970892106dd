import type { Alert, Catalog, CatalogMetric, Device } from '../src/api/types';

export function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 1,
    device_id: 'sensor_001',
    rule: 'anomaly',
    severity: 'warning',
    status: 'pending',
    score: 3.5,
    peak_score: 3.5,
    contributors: [],
    reading_count: 3,
    raised_at: '2026-11-27T08:00:00Z',
    last_seen_at: '2026-11-27T08:00:03Z',
    summary: 'Warning anomaly on sensor_001',
    updated_at: '2026-11-27T08:00:03Z',
    ...overrides,
  };
}

export const catalog: Catalog = {
  score: { warning: 3, critical: 5 },
  metrics: [
    { metric: 'temperature', unit: '°C', valid: [-50, 250], nominal: 25, scale: 8, warning: { high: 45 }, critical: { high: 60 } },
    { metric: 'humidity', unit: '%', valid: [0, 100], nominal: 45, scale: 15, warning: { high: 75, low: 15 }, critical: { high: 90 } },
    { metric: 'vibration', unit: 'mm/s', valid: [0, 200], nominal: 2, scale: 2.5, warning: { high: 7.1 }, critical: { high: 11.2 } },
    { metric: 'accel_x', unit: 'm/s²', valid: [-200, 200], nominal: 0, scale: 2, warning: { high: 6, low: -6 }, critical: { high: 10, low: -10 } },
    { metric: 'accel_y', unit: 'm/s²', valid: [-200, 200], nominal: 0, scale: 2, warning: { high: 6, low: -6 }, critical: { high: 10, low: -10 } },
    { metric: 'accel_z', unit: 'm/s²', valid: [-200, 200], nominal: 9.81, scale: 2, warning: { high: 15.8, low: 3.8 }, critical: { high: 19.8, low: -0.2 } },
    { metric: 'cycle_count', unit: 'cycles', valid: [0, 9e18], warning: {}, critical: {} },
  ],
};

const coldRoomMetrics: CatalogMetric[] = catalog.metrics.map((m) =>
  m.metric === 'temperature'
    ? { ...m, nominal: 4, scale: 2, warning: { high: 8 }, critical: { high: 12 } }
    : m.metric === 'humidity'
      ? { ...m, nominal: 60, scale: 15, warning: { high: 85, low: 30 }, critical: { high: 95 } }
      : m,
);

/** The catalog with profiles as the server answers it (config/sensors.json's cold_room, and a
 *  "strict" profile with lower score limits). */
export const profiled: Catalog = {
  ...catalog,
  profiles: {
    default: { score: catalog.score, metrics: catalog.metrics },
    cold_room: { score: catalog.score, metrics: coldRoomMetrics },
    strict: { score: { warning: 2, critical: 3 }, metrics: catalog.metrics },
  },
  device_labels: ['cell', 'vendor'],
};

export function device(id: string, overrides: Partial<Device> = {}): Device {
  return {
    device_id: id,
    profile: 'default',
    labels: {},
    first_seen: '2026-11-27T07:00:00Z',
    status: 'online',
    last_seen: '2026-11-27T08:00:00Z',
    last_reading_at: '2026-11-27T08:00:00Z',
    readings: 10,
    anomaly_score: 0.5,
    values: { temperature: 25, humidity: 45, vibration: 2 },
    ...overrides,
  };
}
