// Toast queue: newest on top, at most MAX_VISIBLE cards; what does not fit is counted in one
// "N more alerts" card. Critical toasts stay until dismissed (or the alert is acknowledged or
// resolved); warnings leave after WARNING_TTL_MS. A burst of hundreds of alerts costs one state
// update per batch and never more than MAX_VISIBLE + 1 cards.
import type { Alert, Severity } from '../api/types';

export const MAX_VISIBLE = 3;
export const WARNING_TTL_MS = 8_000;

export interface Toast {
  /** One toast per alert: a later toast for the same alert replaces it. */
  alertId: number;
  kind: 'raised' | 'escalated';
  severity: Severity;
  deviceId: string;
  rule: string;
  /** The alert as it was when the toast was made; its summary is worded when shown, in the
   *  language of the moment. */
  alert: Alert;
  createdAt: number;
  /** null: stays until dismissed. */
  expiresAt: number | null;
}

export interface ToastState {
  /** Newest first, at most MAX_VISIBLE. */
  visible: readonly Toast[];
  /** Alerts that did not fit ("N more alerts"). */
  more: number;
  /** The overflow includes a critical alert: the "more" card stays until dismissed. */
  moreCritical: boolean;
  /** When the "more" card leaves by itself (null while critical or empty). */
  moreExpiresAt: number | null;
}

export const emptyToasts: ToastState = { visible: [], more: 0, moreCritical: false, moreExpiresAt: null };

/** What a new toast is made of; the queue adds the times. */
export type ToastInput = Omit<Toast, 'createdAt' | 'expiresAt'>;

function overflow(state: ToastState, severity: Severity, now: number): ToastState {
  const moreCritical = state.moreCritical || severity === 'critical';
  return {
    ...state,
    more: state.more + 1,
    moreCritical,
    moreExpiresAt: moreCritical ? null : now + WARNING_TTL_MS,
  };
}

/** Adds toasts (in event order) at `now`. */
export function pushToasts(state: ToastState, inputs: readonly ToastInput[], now: number): ToastState {
  let next = state;
  for (const input of inputs) {
    const toast: Toast = {
      ...input,
      createdAt: now,
      expiresAt: input.severity === 'critical' ? null : now + WARNING_TTL_MS,
    };
    let visible = next.visible.filter((t) => t.alertId !== toast.alertId);
    if (visible.length < MAX_VISIBLE) {
      next = { ...next, visible: [toast, ...visible] };
      continue;
    }
    // Full: a newcomer displaces the oldest warning; a warning meeting only criticals waits in
    // "more"; a critical meeting only criticals displaces the oldest critical into "more".
    let displaced = -1;
    for (let i = visible.length - 1; i >= 0; i -= 1) {
      if (visible[i].severity === 'warning') {
        displaced = i;
        break;
      }
    }
    if (displaced < 0 && toast.severity === 'warning') {
      next = overflow(next, toast.severity, now);
      continue;
    }
    if (displaced < 0) displaced = visible.length - 1;
    const out = visible[displaced];
    visible = visible.filter((_, i) => i !== displaced);
    next = overflow({ ...next, visible: [toast, ...visible] }, out.severity, now);
  }
  return next;
}

export function dismissToast(state: ToastState, alertId: number): ToastState {
  const visible = state.visible.filter((t) => t.alertId !== alertId);
  return visible.length === state.visible.length ? state : { ...state, visible };
}

export function dismissMore(state: ToastState): ToastState {
  return state.more === 0 ? state : { ...state, more: 0, moreCritical: false, moreExpiresAt: null };
}

/** Removes warnings whose time is up. */
export function expireToasts(state: ToastState, now: number): ToastState {
  const visible = state.visible.filter((t) => t.expiresAt === null || t.expiresAt > now);
  const moreGone = state.moreExpiresAt !== null && state.moreExpiresAt <= now;
  if (visible.length === state.visible.length && !moreGone) return state;
  return moreGone ? { ...dismissMore(state), visible } : { ...state, visible };
}

/** The next moment something expires, to schedule one timer. */
export function nextExpiry(state: ToastState): number | null {
  const times = state.visible.map((t) => t.expiresAt).filter((t): t is number => t !== null);
  if (state.moreExpiresAt !== null) times.push(state.moreExpiresAt);
  return times.length ? Math.min(...times) : null;
}
