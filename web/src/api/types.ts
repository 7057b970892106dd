// JSON shapes of moby-server's API, as its Swift controllers encode them (snake_case keys,
// RFC 3339 times). Optional fields are omitted by the server when absent.

export type Severity = 'warning' | 'critical';
export type AlertStatus = 'pending' | 'acknowledged' | 'resolved';

/** Contributor (MobyCore/Alerts/Alert.swift). */
export interface Contributor {
  metric: string;
  value: number;
  unit: string;
  nominal?: number;
  z: number;
  limit?: number;
  severity?: Severity;
}

/** AlertDocument (MobyServer/Alerts/AlertDocument.swift). */
export interface Alert {
  id: number;
  device_id: string;
  rule: string;
  severity: Severity;
  status: AlertStatus;
  score: number;
  peak_score: number;
  contributors: Contributor[];
  reading_count: number;
  raised_at: string;
  last_seen_at: string;
  cleared_at?: string;
  acknowledged_at?: string;
  acknowledged_by?: string;
  resolved_at?: string;
  resolved_by?: string;
  summary: string;
  narrative?: string;
  /** The device profile whose limits judged the episode ("default" unless the device has one). */
  profile?: string;
  updated_at: string;
}

/** AlertHistoryDocument: action is raised, reopened, escalated, cleared, acknowledged, resolved, summarized. */
export interface AlertHistoryEntry {
  action: string;
  actor: string;
  at: string;
  note?: string;
  status: AlertStatus;
}

/** GET /api/v1/alerts/{id} and the answer of acknowledge/resolve (without history). */
export interface AlertDetail {
  alert: Alert;
  /** The latest entries (200), oldest first. */
  history?: AlertHistoryEntry[];
  /** How many entries the alert has in all. */
  history_total?: number;
}

export interface AlertList {
  alerts: Alert[];
  total: number;
  limit: number;
  offset: number;
}

export interface AlertQuery {
  status?: AlertStatus[];
  severity?: Severity[];
  device?: string;
  from?: string;
  to?: string;
  limit?: number;
  offset?: number;
}

/** DeviceController.DeviceDocument: the registry entry (name, location, line, profile, labels)
 *  and what the server last heard. Registered but never heard from: status "stale". */
export interface Device {
  device_id: string;
  name?: string | null;
  /** Site; an InfluxDB tag (letters and digits of any script, - _ . :, at most 64 bytes). */
  location?: string | null;
  line?: string | null;
  /** A key of `Catalog.profiles`; "default" unless set. */
  profile: string;
  /** Free labels, keys from `Catalog.device_labels`. */
  labels: Record<string, string>;
  first_seen: string;
  status: 'online' | 'stale';
  last_seen: string;
  last_reading_at: string;
  readings: number;
  anomaly_score: number;
  values: Record<string, number>;
  alert?: { id: number; severity: Severity; status: AlertStatus };
}

/** The body of PUT /api/v1/devices/{id}: the whole editable entry (a field left out is cleared,
 *  profile defaults to "default"). */
export interface DeviceUpdate {
  name?: string | null;
  location?: string | null;
  line?: string | null;
  profile?: string;
  labels?: Record<string, string>;
}

export interface DeviceList {
  devices: Device[];
  total: number;
  limit: number;
  offset: number;
  max_devices: number;
  stale_after_seconds: number;
}

/** CatalogController.CatalogDocument. */
export interface Limits {
  low?: number;
  high?: number;
}

export interface CatalogMetric {
  metric: string;
  unit: string;
  valid: [number, number];
  nominal?: number;
  scale?: number;
  warning: Limits;
  critical: Limits;
}

export interface ScoreLimits {
  warning: number;
  critical: number;
}

/** One device profile, resolved over the default metrics (CatalogController.ProfileDocument). */
export interface CatalogProfile {
  score: ScoreLimits;
  metrics: CatalogMetric[];
}

/** The top-level score and metrics are the default profile's. */
export interface Catalog {
  score: ScoreLimits;
  metrics: CatalogMetric[];
  /** Every profile by name, "default" included (absent from servers before device profiles). */
  profiles?: Record<string, CatalogProfile>;
  /** The label keys a device may carry. */
  device_labels?: string[];
}

/** ReadingsController.ReadingSeries: rows of values aligned with `times` and `columns`. */
export interface ReadingSeries {
  device_id: string;
  from: string;
  to: string;
  interval_seconds: number;
  /** raw points, or the long-term tier (per-minute means) for long ranges */
  tier: 'raw' | 'long_term';
  columns: string[];
  values: (number | null)[][];
  times: string[];
}

/** HealthController.Readiness (200 when ready, 503 with the same body when degraded). */
export interface Readiness {
  status: 'ready' | 'degraded';
  mqtt: { connected: boolean; subscribed: boolean };
  influxdb: {
    reachable: boolean;
    last_error?: string;
    refusing: boolean;
    refused_lines_recent: number;
    last_refusal?: string;
    last_refusal_at?: string;
  };
  spool: { readings: number; batches: number; bytes: number };
  pending_readings: number;
}

/** GET /api/v1/console (not in the server yet; a 404 means "no Grafana"). */
export interface ConsoleSettings {
  grafana: { url: string; dashboard: string } | null;
}

/** Messages of /ws (StreamMessage). */
export type AlertEventType = 'alert.raised' | 'alert.updated' | 'alert.acknowledged' | 'alert.resolved';

export interface AlertEventMessage {
  type: AlertEventType;
  seq: number;
  at: string;
  alert: Alert;
}

export interface SnapshotMessage {
  type: 'snapshot';
  seq: number;
  at?: string;
  alerts: Alert[];
  reason?: string;
}

export interface HeartbeatMessage {
  type: 'heartbeat';
  seq: number;
  at?: string;
}

export type StreamMessage = AlertEventMessage | SnapshotMessage | HeartbeatMessage;

/** The body of every API error (APIError.swift). */
export interface ErrorBody {
  error: string;
  errors?: { field: string; message: string }[];
}

/** Roles of moby-server's authentication: `device` only publishes and never uses the console. */
export type Role = 'viewer' | 'operator' | 'admin' | 'device';

/** The user a session belongs to (POST/GET /api/v1/session). */
export interface SessionUser {
  name: string;
  role: Role;
}

/** POST /api/v1/session (200) and GET /api/v1/session: who is logged in, until when. */
export interface SessionInfo {
  user: SessionUser;
  expires: string;
}

/** GET /api/v1/users (admin). */
export interface UserEntry {
  name: string;
  role: Role;
  created: string;
}

export interface UserList {
  users: UserEntry[];
}

/** The body of POST /api/v1/users (admin). */
export interface NewUser {
  name: string;
  role: Role;
  password: string;
}

/** GET /api/v1/tokens (admin): a token without its secret. */
export interface TokenEntry {
  /** Opaque to the console (a string or a number); used in DELETE /api/v1/tokens/{id}. */
  id: string | number;
  name?: string | null;
  role: Role;
  device?: string | null;
  created: string;
  last_used?: string | null;
}

export interface TokenList {
  tokens: TokenEntry[];
}

/** The body of POST /api/v1/tokens (admin). */
export interface NewToken {
  role: Role;
  device?: string;
  name?: string;
}

/** POST /api/v1/tokens → 201: the secret is in this answer only. */
export interface CreatedToken {
  token: TokenEntry;
  secret: string;
}
