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
      return { ...state, connection: 'live', failures: 0, retryAt: null };
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
  if (open === null && lastSeq === state.lastSeq && synced === state.synced && state.connection === 'live') {
    return state;
  }
  return { ...state, open: open ?? state.open, lastSeq, snapshotReason, synced, connection: 'live' };
}

/** Events of `messages` that `state` has not applied yet, in order (what toasts and views react to). */
export function freshEvents(state: StreamState, messages: readonly StreamMessage[]): AlertEventMessage[] {
  const fresh: AlertEventMessage[] = [];
  let lastSeq = state.lastSeq;
  for (const message of messages) {
    if (message.type === 'snapshot') lastSeq = message.seq;
    else if (isEvent(message) && (lastSeq === null || message.seq > lastSeq)) {
      fresh.push(message);
      lastSeq = message.seq;
    }
  }
  return fresh;
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
