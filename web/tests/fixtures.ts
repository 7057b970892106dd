import type { Alert, Catalog } from '../src/api/types';

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
