import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshEvents,
  initialStreamState,
  openCounts,
  OFFLINE_AFTER_FAILURES,
  streamPath,
  streamReducer,
  type StreamState,
} from '../src/stream/reducer';
import { backoffDelay, BACKOFF_CAP_MS } from '../src/stream/backoff';
import { notableChanges } from '../src/stream/notable';
import type { AlertEventMessage, StreamMessage } from '../src/api/types';
import { alert } from './fixtures';

const event = (type: AlertEventMessage['type'], seq: number, overrides = {}): AlertEventMessage => ({
  type,
  seq,
  at: '2026-11-27T08:00:00Z',
  alert: alert(overrides),
});

function apply(state: StreamState, ...messages: StreamMessage[]): StreamState {
  return streamReducer(state, { type: 'messages', messages });
}

test('a snapshot replaces the open alerts and sets the sequence', () => {
  let state = apply(initialStreamState, event('alert.raised', 3, { id: 9 }));
  state = apply(state, { type: 'snapshot', seq: 10, alerts: [alert({ id: 1 }), alert({ id: 2, status: 'acknowledged' })] });
  assert.deepEqual([...state.open.keys()], [1, 2]);
  assert.equal(state.lastSeq, 10);
  assert.equal(state.connection, 'live');
  assert.equal(state.synced, true);
});

test('a snapshot with a lower sequence (server data reset) still wins', () => {
  let state = apply(initialStreamState, { type: 'snapshot', seq: 50, alerts: [] });
  state = apply(state, { type: 'snapshot', seq: 2, alerts: [alert({ id: 7 })], reason: 'events after 50 are not available' });
  assert.equal(state.lastSeq, 2);
  assert.equal(state.snapshotReason, 'events after 50 are not available');
  assert.deepEqual([...state.open.keys()], [7]);
});

test('events are applied once: a resume that overlaps is ignored', () => {
  let state = apply(initialStreamState, { type: 'snapshot', seq: 4, alerts: [] });
  state = apply(state, event('alert.raised', 5, { id: 1 }), event('alert.raised', 6, { id: 2 }));
  assert.equal(state.lastSeq, 6);
  const same = apply(state, event('alert.raised', 5, { id: 1, severity: 'critical' }), event('alert.raised', 6, { id: 2 }));
  assert.equal(same, state, 'duplicates change nothing');
  assert.equal(state.open.get(1)?.severity, 'warning');
});

test('resolved events remove the alert; acknowledged keep it open', () => {
  let state = apply(initialStreamState, { type: 'snapshot', seq: 0, alerts: [] });
  state = apply(state, event('alert.raised', 1, { id: 1 }), event('alert.raised', 2, { id: 2, severity: 'critical' }));
  state = apply(state, event('alert.acknowledged', 3, { id: 1, status: 'acknowledged' }));
  assert.equal(state.open.get(1)?.status, 'acknowledged');
  assert.deepEqual(openCounts(state.open), { critical: 1, warning: 1 });
  state = apply(state, event('alert.resolved', 4, { id: 2, status: 'resolved', severity: 'critical' }));
  assert.deepEqual([...state.open.keys()], [1]);
  assert.deepEqual(openCounts(state.open), { critical: 0, warning: 1 });
});

test('the stream resumes after the last applied sequence', () => {
  assert.equal(streamPath(null), '/ws');
  const state = apply(initialStreamState, { type: 'snapshot', seq: 41, alerts: [] }, event('alert.raised', 42));
  assert.equal(streamPath(state.lastSeq), '/ws?since=42');
});

test('heartbeats do not move the sequence', () => {
  const state = apply(initialStreamState, { type: 'snapshot', seq: 5, alerts: [] });
  const after = apply(state, { type: 'heartbeat', seq: 9 });
  assert.equal(after.lastSeq, 5);
});

test('connection state: reconnecting, then offline after repeated failures, live on the first message', () => {
  const heartbeat: StreamMessage = { type: 'heartbeat', seq: 0 };
  let state = streamReducer(initialStreamState, { type: 'opened' });
  assert.equal(state.connection, 'connecting', 'an accepted upgrade is not yet a live stream');
  state = apply(state, heartbeat);
  assert.equal(state.connection, 'live');
  state = streamReducer(state, { type: 'closed', retryAt: 1000 });
  assert.equal(state.connection, 'reconnecting');
  for (let i = 1; i < OFFLINE_AFTER_FAILURES; i += 1) state = streamReducer(state, { type: 'closed', retryAt: 1000 });
  assert.equal(state.connection, 'offline');
  assert.equal(state.failures, OFFLINE_AFTER_FAILURES);
  state = streamReducer(state, { type: 'opened' });
  assert.equal(state.connection, 'offline');
  assert.equal(state.failures, OFFLINE_AFTER_FAILURES);
  state = apply(state, heartbeat);
  assert.equal(state.connection, 'live');
  assert.equal(state.failures, 0);
  assert.equal(streamReducer(state, { type: 'browserOffline' }).connection, 'offline');
});

test('a server that accepts the upgrade and closes at once goes offline, not live and back', () => {
  let state = initialStreamState;
  for (let i = 0; i < OFFLINE_AFTER_FAILURES; i += 1) {
    state = streamReducer(state, { type: 'opened' });
    assert.notEqual(state.connection, 'live');
    state = streamReducer(state, { type: 'closed', retryAt: 1000 });
  }
  assert.equal(state.connection, 'offline');
});

test('fresh events skip what was applied and follow a snapshot in the same batch', () => {
  const state = apply(initialStreamState, { type: 'snapshot', seq: 10, alerts: [] });
  const fresh = freshEvents(state, [event('alert.raised', 9), event('alert.raised', 11), event('alert.raised', 11)]);
  assert.deepEqual(fresh.map((e) => e.seq), [11]);
  const afterSnapshot = freshEvents(state, [{ type: 'snapshot', seq: 20, alerts: [] }, event('alert.raised', 15), event('alert.raised', 21)]);
  assert.deepEqual(afterSnapshot.map((e) => e.seq), [21]);
});

test('the first snapshot of a page is silent', () => {
  const fresh = freshEvents(initialStreamState, [{ type: 'snapshot', seq: 3, alerts: [alert({ id: 1 }), alert({ id: 2 })] }]);
  assert.deepEqual(fresh, []);
});

test('a snapshot after a gap yields what changed meanwhile, and toasts follow it', () => {
  const state = apply(
    initialStreamState,
    { type: 'snapshot', seq: 1, alerts: [] },
    event('alert.raised', 2, { id: 1 }),
    event('alert.raised', 3, { id: 2, updated_at: '2026-11-27T08:00:00Z' }),
    event('alert.raised', 4, { id: 3, severity: 'critical' }),
    event('alert.raised', 5, { id: 5 }),
  );
  // The server kept no events after 5: a snapshot instead. Alert 1 is unchanged, 2 turned
  // critical, 3 was resolved, 4 was raised, 5 was acknowledged, all while the console was away.
  const snapshot: StreamMessage = {
    type: 'snapshot',
    seq: 90,
    at: '2026-11-27T09:00:00Z',
    reason: 'events after 5 are not available; here is the current state',
    alerts: [
      state.open.get(1)!,
      alert({ id: 2, severity: 'critical', updated_at: '2026-11-27T08:30:00Z' }),
      alert({ id: 4, severity: 'critical' }),
      alert({ id: 5, status: 'acknowledged' }),
    ],
  };
  const fresh = freshEvents(state, [snapshot, event('alert.raised', 91, { id: 6 })]);
  assert.deepEqual(
    fresh.map((e) => `${e.type}#${e.alert.id}@${e.seq}`),
    ['alert.updated#2@90', 'alert.raised#4@90', 'alert.acknowledged#5@90', 'alert.resolved#3@90', 'alert.raised#6@91'],
  );
  assert.equal(fresh.find((e) => e.alert.id === 3)?.alert.status, 'resolved');
  const notable = notableChanges(state.open, fresh).map((n) => `${n.kind}#${n.alert.id}`);
  assert.deepEqual(notable, ['escalated#2', 'raised#4', 'closed#5', 'closed#3', 'raised#6']);
  // The reducer lands on the snapshot's state plus the event after it.
  assert.deepEqual([...apply(state, snapshot, event('alert.raised', 91, { id: 6 })).open.keys()].sort(), [1, 2, 4, 5, 6]);
});

test('backoff grows exponentially, is capped, and jitters within [half, full]', () => {
  assert.equal(backoffDelay(1, 0), 250);
  assert.equal(backoffDelay(1, 1), 500);
  assert.equal(backoffDelay(3, 1), 2000);
  assert.equal(backoffDelay(30, 1), BACKOFF_CAP_MS);
  assert.equal(backoffDelay(100, 0), BACKOFF_CAP_MS / 2);
  for (let i = 0; i < 100; i += 1) {
    const d = backoffDelay(5, Math.random());
    assert.ok(d >= 4000 && d <= 8000, `delay ${d}`);
  }
});

test('notable changes: raises, escalation to critical, and closings', () => {
  const open = new Map([[1, alert({ id: 1, severity: 'warning' })]]);
  const notable = notableChanges(open, [
    event('alert.updated', 1, { id: 1, severity: 'warning' }),
    event('alert.updated', 2, { id: 1, severity: 'critical' }),
    event('alert.updated', 3, { id: 1, severity: 'critical' }),
    event('alert.raised', 4, { id: 2 }),
    event('alert.raised', 5, { id: 3, severity: 'warning' }),
    event('alert.updated', 6, { id: 3, severity: 'critical' }),
    event('alert.resolved', 7, { id: 2, status: 'resolved' }),
    event('alert.raised', 8, { id: 4, severity: 'warning' }),
    event('alert.acknowledged', 9, { id: 4, severity: 'warning', status: 'acknowledged' }),
    event('alert.updated', 10, { id: 4, severity: 'critical', status: 'acknowledged' }),
  ]);
  assert.deepEqual(
    notable.map((n) => `${n.kind}:${n.alert.id}`),
    ['escalated:1', 'raised:2', 'raised:3', 'escalated:3', 'closed:2', 'raised:4', 'closed:4', 'escalated:4'],
  );
});
