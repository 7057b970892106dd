import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dismissMore,
  dismissToast,
  emptyToasts,
  expireToasts,
  MAX_VISIBLE,
  nextExpiry,
  pushToasts,
  WARNING_TTL_MS,
  type ToastInput,
} from '../src/logic/toasts';
import { alert } from './fixtures';

const input = (alertId: number, severity: 'warning' | 'critical' = 'warning'): ToastInput => ({
  alertId,
  severity,
  kind: 'raised',
  deviceId: `sensor_${alertId}`,
  rule: 'anomaly',
  alert: alert({ id: alertId, severity }),
});

test('newest on top, at most three visible, the rest counted', () => {
  const state = pushToasts(emptyToasts, [1, 2, 3, 4, 5].map((id) => input(id)), 0);
  assert.equal(state.visible.length, MAX_VISIBLE);
  assert.deepEqual(state.visible.map((t) => t.alertId), [5, 4, 3]);
  assert.equal(state.more, 2);
});

test('a burst of 500 alerts collapses into one "more" count', () => {
  const inputs = Array.from({ length: 500 }, (_, i) => input(i + 1));
  const state = pushToasts(emptyToasts, inputs, 0);
  assert.equal(state.visible.length, 3);
  assert.equal(state.more, 497);
  assert.equal(state.moreCritical, false);
});

test('criticals stay; warnings leave after about 8 s', () => {
  let state = pushToasts(emptyToasts, [input(1, 'critical'), input(2, 'warning')], 1000);
  assert.equal(nextExpiry(state), 1000 + WARNING_TTL_MS);
  state = expireToasts(state, 1000 + WARNING_TTL_MS - 1);
  assert.equal(state.visible.length, 2);
  state = expireToasts(state, 1000 + WARNING_TTL_MS);
  assert.deepEqual(state.visible.map((t) => t.alertId), [1]);
  state = expireToasts(state, 10 * 60_000);
  assert.deepEqual(state.visible.map((t) => t.alertId), [1]);
  assert.equal(nextExpiry(state), null);
});

test('a critical displaces the oldest warning, never a critical while warnings are shown', () => {
  let state = pushToasts(emptyToasts, [input(1, 'critical'), input(2), input(3)], 0);
  state = pushToasts(state, [input(4, 'critical')], 1);
  assert.deepEqual(state.visible.map((t) => t.alertId), [4, 3, 1]);
  assert.equal(state.more, 1);
  assert.equal(state.moreCritical, false, 'the displaced one was a warning');
});

test('when only criticals are shown a warning waits in "more"; the critical overflow stays', () => {
  let state = pushToasts(emptyToasts, [input(1, 'critical'), input(2, 'critical'), input(3, 'critical')], 0);
  state = pushToasts(state, [input(4, 'warning')], 1);
  assert.deepEqual(state.visible.map((t) => t.alertId), [3, 2, 1]);
  assert.equal(state.more, 1);
  state = pushToasts(state, [input(5, 'critical')], 2);
  assert.deepEqual(state.visible.map((t) => t.alertId), [5, 3, 2]);
  assert.equal(state.more, 2);
  assert.equal(state.moreCritical, true);
  assert.equal(state.moreExpiresAt, null);
  assert.equal(expireToasts(state, 60_000).more, 2);
  assert.equal(dismissMore(state).more, 0);
});

test('one toast per alert: an escalation replaces the raise', () => {
  let state = pushToasts(emptyToasts, [input(1, 'warning')], 0);
  state = pushToasts(state, [{ ...input(1, 'critical'), kind: 'escalated' }], 5);
  assert.equal(state.visible.length, 1);
  assert.equal(state.visible[0].kind, 'escalated');
  assert.equal(state.visible[0].expiresAt, null);
});

test('dismiss removes one toast and leaves the state alone for unknown ids', () => {
  const state = pushToasts(emptyToasts, [input(1), input(2)], 0);
  assert.deepEqual(dismissToast(state, 1).visible.map((t) => t.alertId), [2]);
  assert.equal(dismissToast(state, 99), state);
});
