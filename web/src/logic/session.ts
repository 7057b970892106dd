// Whether the console is logged in, as a pure reducer. The one API client (api/client.ts) feeds
// it: the answer of GET /api/v1/session at start, a login, a logout, and any 401. Every request
// carries the `epoch` it started in; answers from an older epoch (sent with the cookie of a
// session since replaced) are ignored, so a slow request that fails with 401 after a new login
// does not log the new session out.
import type { SessionInfo, SessionUser } from '../api/types';
import { can } from './permissions';

/** Why the login page is shown: not logged in at start, the session ended (a 401), logged out,
 *  or the account's role cannot use the console (device). */
export type AnonymousReason = 'start' | 'expired' | 'logout' | 'role';

export type SessionState =
  /** Asking GET /api/v1/session; `failure` when the last try could not reach the server. */
  | { status: 'checking'; epoch: number; attempts: number; failure: unknown }
  | { status: 'anonymous'; epoch: number; reason: AnonymousReason; role?: string }
  | { status: 'signedIn'; epoch: number; user: SessionUser; expires: string };

export type SessionAction =
  /** GET /api/v1/session answered 200 for a request started in `epoch`. */
  | { type: 'checked'; epoch: number; session: SessionInfo }
  /** GET /api/v1/session failed otherwise than 401 (network, 5xx) while checking. */
  | { type: 'checkFailed'; error: unknown }
  /** Try the check again now (the Retry button). */
  | { type: 'recheck' }
  /** Some request started in `epoch` answered 401. */
  | { type: 'unauthorized'; epoch: number }
  | { type: 'loggedIn'; session: SessionInfo }
  | { type: 'loggedOut' };

export const initialSessionState: SessionState = { status: 'checking', epoch: 0, attempts: 0, failure: null };

function signedIn(epoch: number, info: SessionInfo): SessionState {
  if (!can(info.user.role, 'read')) return { status: 'anonymous', epoch, reason: 'role', role: info.user.role };
  return { status: 'signedIn', epoch, user: { name: info.user.name, role: info.user.role }, expires: info.expires };
}

export function sessionReducer(state: SessionState, action: SessionAction): SessionState {
  switch (action.type) {
    case 'checked': {
      if (action.epoch !== state.epoch) return state;
      const next = signedIn(state.epoch, action.session);
      if (
        state.status === 'signedIn' &&
        next.status === 'signedIn' &&
        next.user.name === state.user.name &&
        next.user.role === state.user.role &&
        next.expires === state.expires
      )
        return state;
      return next;
    }
    case 'checkFailed':
      return state.status === 'checking' ? { ...state, attempts: state.attempts + 1, failure: action.error } : state;
    case 'recheck':
      return state.status === 'checking' ? { ...state, attempts: 0, failure: null } : state;
    case 'unauthorized':
      if (action.epoch !== state.epoch) return state;
      if (state.status === 'signedIn') return { status: 'anonymous', epoch: state.epoch, reason: 'expired' };
      if (state.status === 'checking') return { status: 'anonymous', epoch: state.epoch, reason: 'start' };
      return state;
    case 'loggedIn':
      return signedIn(state.epoch + 1, action.session);
    case 'loggedOut':
      return { status: 'anonymous', epoch: state.epoch + 1, reason: 'logout' };
  }
}

/**
 * Seconds to wait from a Retry-After header: delay-seconds ("30") or an HTTP date; null when
 * absent or unreadable. `now` in ms since the epoch.
 */
export function retryAfterSeconds(header: string | null | undefined, now: number): number | null {
  if (header == null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/[a-z]/i.test(text)) return null; // "-5", "1.5": neither form
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** A wait in words' parts: under two minutes in seconds ("45 s"), then in whole minutes rounded up. */
export function waitParts(seconds: number): { value: number; unit: 'seconds' | 'minutes' } {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 120) return { value: s, unit: 'seconds' };
  return { value: Math.ceil(s / 60), unit: 'minutes' };
}

/** Seconds left until `until` (ms since the epoch), rounded up; 0 once past. */
export function secondsLeft(until: number, now: number): number {
  return Math.max(0, Math.ceil((until - now) / 1000));
}
