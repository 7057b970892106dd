// The state of the /ws alert stream as a pure reducer: connection state, the last applied
// sequence number and the open alerts. Events at or below the last sequence are ignored, so a
// resume with ?since= that overlaps what was applied never applies an event twice.
import type { Alert, AlertEventMessage, StreamMessage } from '../api/types';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** After this many failed attempts in a row (about 15 s with the backoff) the console says "offline"; it keeps trying. */
export const OFFLINE_AFTER_FAILURES = 6;

/** From this many failed attempts in a row, each failure also asks GET /api/v1/session: a browser
 *  only sees a refused upgrade (401) as a failed socket, so a session that ended looks like this. */
export const SESSION_CHECK_AFTER_FAILURES = 2;

/** Whether a socket that failed without ever opening, after `failures` failures in a row, should
 *  make the client check the session (rather than only reconnect). */
export function shouldCheckSession(failures: number, opened: boolean): boolean {
  return !opened && failures >= SESSION_CHECK_AFTER_FAILURES;
}

export interface StreamState {
  connection: Connection;
  /** Sequence number of the last event or snapshot applied; null before the first. */
  lastSeq: number | null;
  /** Open (pending or acknowledged) alerts by id. */
  open: ReadonlyMap<number, Alert>;
  /** Connection attempts that failed since the last successful one. */
  failures: number;
  /** When the next attempt is due (ms since epoch), while not connected. */
  retryAt: number | null;
  /** Set when the server sent a snapshot instead of missed events (events were no longer kept). */
  snapshotReason: string | null;
  /** Whether the first snapshot (or resume) has arrived: counts are meaningful. */
  synced: boolean;
}

export type StreamAction =
  /** (Re)started, e.g. after a login: a fresh count of failures; the last sequence and the open
   *  alerts are kept, so the next connection resumes with ?since= as after any disconnect. */
  | { type: 'started' }
  | { type: 'connecting' }
  | { type: 'opened' }
  | { type: 'messages'; messages: readonly StreamMessage[] }
  | { type: 'closed'; retryAt: number }
  | { type: 'browserOffline' };

export const initialStreamState: StreamState = {
  connection: 'connecting',
  lastSeq: null,
  open: new Map(),
  failures: 0,
  retryAt: null,
  snapshotReason: null,
  synced: false,
};

export function isEvent(message: StreamMessage): message is AlertEventMessage {
  return message.type.startsWith('alert.');
}

/** The query of the next connection: resume after the last applied sequence. */
export function streamPath(lastSeq: number | null): string {
  return lastSeq === null ? '/ws' : `/ws?since=${lastSeq}`;
}

export function streamReducer(state: StreamState, action: StreamAction): StreamState {
  switch (action.type) {
    case 'started':
      return { ...state, connection: state.lastSeq === null ? 'connecting' : 'reconnecting', failures: 0, retryAt: null };
    case 'connecting':
      return state.connection === 'live' ? { ...state, connection: 'reconnecting' } : state;
    case 'opened':
      // Not live yet: a server that accepts the upgrade and closes at once (its database
      // failing) must count as failing. The first message makes the connection live.
      return state.retryAt === null ? state : { ...state, retryAt: null };
    case 'closed': {
      const failures = state.failures + 1;
      return {
        ...state,
        failures,
        retryAt: action.retryAt,
        connection: failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting',
      };
    }
    case 'browserOffline':
      return { ...state, connection: 'offline' };
    case 'messages':
      return applyMessages(state, action.messages);
  }
}

function applyMessages(state: StreamState, messages: readonly StreamMessage[]): StreamState {
  let open: Map<number, Alert> | null = null;
  let lastSeq = state.lastSeq;
  let snapshotReason = state.snapshotReason;
  let synced = state.synced;
  for (const message of messages) {
    if (message.type === 'snapshot') {
      // The server's whole current state: replaces ours, whatever our sequence was.
      open = new Map(message.alerts.filter((a) => a.status !== 'resolved').map((a) => [a.id, a]));
      lastSeq = message.seq;
      snapshotReason = message.reason ?? null;
      synced = true;
    } else if (isEvent(message)) {
      if (lastSeq !== null && message.seq <= lastSeq) continue; // already applied
      open ??= new Map(state.open);
      if (message.alert.status === 'resolved') open.delete(message.alert.id);
      else open.set(message.alert.id, message.alert);
      lastSeq = message.seq;
      synced = true;
    }
    // heartbeat: nothing to apply
  }
  if (
    open === null &&
    lastSeq === state.lastSeq &&
    synced === state.synced &&
    state.connection === 'live' &&
    state.failures === 0
  ) {
    return state;
  }
  return { ...state, open: open ?? state.open, lastSeq, snapshotReason, synced, connection: 'live', failures: 0, retryAt: null };
}

/** Events of `messages` that `state` has not applied yet, in order (what toasts and views react to).
 *  A snapshot that replaces a state the console already had (a reconnect after the server no
 *  longer kept the missed events) stands for what changed meanwhile: it yields the events that
 *  explain the difference, so alerts raised during the gap get their toast, closed ones lose
 *  theirs, and the views refresh. The first snapshot of a page is the starting point: silent. */
export function freshEvents(state: StreamState, messages: readonly StreamMessage[]): AlertEventMessage[] {
  const fresh: AlertEventMessage[] = [];
  let lastSeq = state.lastSeq;
  let open: Map<number, Alert> | null = null;
  const current = () => (open ??= new Map(state.open));
  for (const message of messages) {
    if (message.type === 'snapshot') {
      const next = new Map(message.alerts.filter((a) => a.status !== 'resolved').map((a) => [a.id, a]));
      if (lastSeq !== null) fresh.push(...snapshotChanges(current(), next, message.seq, message.at ?? ''));
      open = next;
      lastSeq = message.seq;
    } else if (isEvent(message) && (lastSeq === null || message.seq > lastSeq)) {
      fresh.push(message);
      if (message.alert.status === 'resolved') current().delete(message.alert.id);
      else current().set(message.alert.id, message.alert);
      lastSeq = message.seq;
    }
  }
  return fresh;
}

/** The events that turn the open alerts `before` into `after` (all stamped with the snapshot's
 *  sequence): raised for new ones, acknowledged or updated for changed ones, resolved for those
 *  gone (their last known state, marked resolved). */
export function snapshotChanges(
  before: ReadonlyMap<number, Alert>,
  after: ReadonlyMap<number, Alert>,
  seq: number,
  at: string,
): AlertEventMessage[] {
  const changes: AlertEventMessage[] = [];
  for (const [id, alert] of after) {
    const known = before.get(id);
    if (!known) {
      changes.push({ type: alert.status === 'pending' ? 'alert.raised' : 'alert.acknowledged', seq, at, alert });
    } else if (known.status !== alert.status) {
      // Acknowledged meanwhile, or open again (pending) after an acknowledgement.
      changes.push({ type: alert.status === 'acknowledged' ? 'alert.acknowledged' : 'alert.raised', seq, at, alert });
    } else if (known.updated_at !== alert.updated_at || known.severity !== alert.severity) {
      changes.push({ type: 'alert.updated', seq, at, alert });
    }
  }
  for (const [id, alert] of before) {
    if (!after.has(id)) changes.push({ type: 'alert.resolved', seq, at, alert: { ...alert, status: 'resolved' } });
  }
  return changes;
}

export interface OpenCounts {
  critical: number;
  warning: number;
}

export function openCounts(open: ReadonlyMap<number, Alert>): OpenCounts {
  let critical = 0;
  let warning = 0;
  for (const alert of open.values()) {
    if (alert.severity === 'critical') critical += 1;
    else warning += 1;
  }
  return { critical, warning };
}
