// Logging in: the session reducer, the API client's 401 handling (fetch stubbed), Retry-After,
// role permissions and the Access page's forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initialSessionState,
  retryAfterSeconds,
  secondsLeft,
  sessionReducer,
  waitParts,
  type SessionAction,
  type SessionState,
} from '../src/logic/session';
import { can, deniedReason, roleLabel, type Permission } from '../src/logic/permissions';
import { api, ApiError, kindOfStatus, session } from '../src/api/client';
import { errorSentence, waitText } from '../src/api/errors';
import { parseRoute, routeHref } from '../src/logic/routes';
import {
  emptyTokenForm,
  emptyUserForm,
  sortTokens,
  sortUsers,
  tokenBody,
  tokenFormProblems,
  tokenLabel,
  userBody,
  userFormProblems,
} from '../src/logic/access';
import type { SessionInfo, TokenEntry } from '../src/api/types';
import { en } from '../src/i18n/en';
import { ko } from '../src/i18n/ko';

const alice: SessionInfo = { user: { name: 'alice', role: 'operator' }, expires: '2026-11-30T01:00:00Z' };
const viewer: SessionInfo = { user: { name: 'vera', role: 'viewer' }, expires: '2026-11-30T01:00:00Z' };

function run(...actions: SessionAction[]): SessionState {
  return actions.reduce(sessionReducer, initialSessionState);
}

// -- the session reducer ------------------------------------------------------------------------

test('at start a 401 shows the login page; a 200 the console', () => {
  assert.deepEqual(run({ type: 'unauthorized', epoch: 0 }), { status: 'anonymous', epoch: 0, reason: 'start' });
  const state = run({ type: 'checked', epoch: 0, session: alice });
  assert.equal(state.status, 'signedIn');
  assert.deepEqual(state.status === 'signedIn' && state.user, { name: 'alice', role: 'operator' });
});

test('a 401 while logged in means the session ended', () => {
  const state = run({ type: 'loggedIn', session: alice }, { type: 'unauthorized', epoch: 1 });
  assert.deepEqual(state, { status: 'anonymous', epoch: 1, reason: 'expired' });
});

test('a 401 from a request sent before the latest login is ignored', () => {
  // Logged in (epoch 1), the session expires (401 → login page), logged in again (epoch 2):
  // a slow request of epoch 1 that now answers 401 must not log the new session out.
  const relogged = run({ type: 'loggedIn', session: alice }, { type: 'unauthorized', epoch: 1 }, { type: 'loggedIn', session: alice });
  assert.equal(relogged.status, 'signedIn');
  assert.equal(relogged.epoch, 2);
  assert.equal(sessionReducer(relogged, { type: 'unauthorized', epoch: 1 }), relogged);
  assert.equal(sessionReducer(relogged, { type: 'unauthorized', epoch: 2 }).status, 'anonymous');
});

test('logout starts a new epoch: a session check sent before it cannot log back in', () => {
  const out = run({ type: 'loggedIn', session: alice }, { type: 'loggedOut' });
  assert.deepEqual(out, { status: 'anonymous', epoch: 2, reason: 'logout' });
  assert.equal(sessionReducer(out, { type: 'checked', epoch: 1, session: alice }), out);
  assert.equal(sessionReducer(out, { type: 'unauthorized', epoch: 2 }), out, 'already on the login page');
});

test('a device account cannot use the console', () => {
  const state = run({ type: 'loggedIn', session: { user: { name: 'press-7', role: 'device' }, expires: 'x' } });
  assert.deepEqual(state, { status: 'anonymous', epoch: 1, reason: 'role', role: 'device' });
});

test('an unreachable server while checking is retried, not taken for a logout', () => {
  const failed = run({ type: 'checkFailed', error: new Error('down') }, { type: 'checkFailed', error: new Error('down') });
  assert.equal(failed.status, 'checking');
  assert.equal(failed.status === 'checking' && failed.attempts, 2);
  const again = sessionReducer(failed, { type: 'recheck' });
  assert.deepEqual(again, { status: 'checking', epoch: 0, attempts: 0, failure: null });
  const signedIn = run({ type: 'loggedIn', session: alice });
  assert.equal(sessionReducer(signedIn, { type: 'checkFailed', error: 1 }), signedIn);
});

test('the same session checked again changes nothing (no re-render)', () => {
  const state = run({ type: 'loggedIn', session: alice });
  assert.equal(sessionReducer(state, { type: 'checked', epoch: 1, session: { ...alice, user: { ...alice.user } } }), state);
  const promoted = sessionReducer(state, { type: 'checked', epoch: 1, session: { ...alice, user: { name: 'alice', role: 'admin' } } });
  assert.equal(promoted.status === 'signedIn' && promoted.user.role, 'admin');
});

// -- Retry-After --------------------------------------------------------------------------------

test('Retry-After in seconds or as an HTTP date', () => {
  const now = Date.parse('2026-11-30T01:00:00Z');
  assert.equal(retryAfterSeconds('30', now), 30);
  assert.equal(retryAfterSeconds(' 5 ', now), 5);
  assert.equal(retryAfterSeconds('0', now), 0);
  assert.equal(retryAfterSeconds('Mon, 30 Nov 2026 01:01:30 GMT', now), 90);
  assert.equal(retryAfterSeconds('Mon, 30 Nov 2026 00:59:00 GMT', now), 0, 'a past date: now');
  assert.equal(retryAfterSeconds(null, now), null);
  assert.equal(retryAfterSeconds('soon', now), null);
  assert.equal(retryAfterSeconds('-5', now), null);
  assert.equal(retryAfterSeconds('1.5', now), null);
});

test('waits are said in seconds under two minutes, then in minutes rounded up', () => {
  assert.deepEqual(waitParts(44.2), { value: 45, unit: 'seconds' });
  assert.deepEqual(waitParts(119), { value: 119, unit: 'seconds' });
  assert.deepEqual(waitParts(120), { value: 2, unit: 'minutes' });
  assert.deepEqual(waitParts(121), { value: 3, unit: 'minutes' });
  assert.deepEqual(waitParts(-3), { value: 0, unit: 'seconds' });
  assert.equal(waitText(30, en), '30 s');
  assert.equal(waitText(30, ko), '30초');
  assert.equal(waitText(600, en), '10 min');
  assert.equal(waitText(600, ko), '10분');
  assert.equal(secondsLeft(10_500, 10_000), 1);
  assert.equal(secondsLeft(10_000, 10_000), 0);
  assert.equal(secondsLeft(9_000, 10_000), 0);
});

// -- permissions --------------------------------------------------------------------------------

test('what each role may do', () => {
  const actions: Permission[] = ['read', 'acknowledge', 'resolve', 'editDevice', 'manageAccess'];
  const allowed = (role: string | null) => actions.filter((a) => can(role, a));
  assert.deepEqual(allowed('viewer'), ['read']);
  assert.deepEqual(allowed('operator'), ['read', 'acknowledge', 'resolve', 'editDevice']);
  assert.deepEqual(allowed('admin'), actions);
  assert.deepEqual(allowed('device'), []);
  assert.deepEqual(allowed('superuser'), [], 'an unknown role may do nothing');
  assert.deepEqual(allowed('constructor'), [], 'not fooled by Object.prototype');
  assert.deepEqual(allowed(null), []);
});

test('a disabled control says why, in both languages', () => {
  assert.equal(deniedReason('viewer', 'acknowledge', en), 'Your role (viewer) cannot acknowledge or resolve alerts.');
  assert.equal(deniedReason('viewer', 'acknowledge', ko), '현재 역할(조회자)로는 경보를 확인하거나 해결할 수 없습니다.');
  assert.equal(deniedReason('viewer', 'editDevice', en), 'Your role (viewer) cannot edit or register devices.');
  assert.equal(deniedReason('operator', 'manageAccess', en), 'Your role (operator) cannot manage users and tokens.');
  assert.equal(deniedReason('operator', 'acknowledge', en), null);
  assert.equal(deniedReason('admin', 'manageAccess', ko), null);
  assert.equal(roleLabel('admin', ko), '관리자');
  assert.equal(roleLabel('auditor', ko), 'auditor');
});

// -- the API client: 401 handled once, for every request ------------------------------------------

interface Sent {
  url: string;
  method: string;
  body: unknown;
  credentials?: RequestCredentials;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** Replaces fetch: `answer` decides each response; returns what was sent. */
function stubFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>): Sent[] {
  const sent: Sent[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    sent.push({
      url,
      method: init.method ?? 'GET',
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    });
    return answer(url, init);
  }) as typeof fetch;
  return sent;
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `an ApiError, not ${String(error)}`);
    return error;
  }
  throw new Error('expected the call to fail');
}

test('statuses of authentication have kinds of their own', () => {
  assert.equal(kindOfStatus(401), 'unauthorized');
  assert.equal(kindOfStatus(403), 'forbidden');
  assert.equal(kindOfStatus(429), 'tooManyRequests');
});

test('login posts name and password, then the session store says who is logged in', async () => {
  const sent = stubFetch(() => json(200, alice));
  await api.login('alice', 'pw 1');
  assert.deepEqual(sent, [{ url: '/api/v1/session', method: 'POST', body: { name: 'alice', password: 'pw 1' }, credentials: 'same-origin' }]);
  const state = session.getState();
  assert.equal(state.status, 'signedIn');
  assert.equal(state.status === 'signedIn' && state.user.name, 'alice');
});

test('any request answering 401 switches to the login page, once, in the client', async () => {
  session.dispatch({ type: 'loggedIn', session: alice });
  stubFetch(() => json(401, { error: 'session expired' }));
  const error = await failure(api.alerts({ status: ['pending'] }));
  assert.equal(error.kind, 'unauthorized');
  assert.equal(error.detail, 'session expired');
  const state = session.getState();
  assert.equal(state.status === 'anonymous' ? state.reason : state.status, 'expired');
});

test('a wrong password is the login page\'s error, not a session change; 429 carries Retry-After', async () => {
  session.dispatch({ type: 'loggedOut' });
  const before = session.getState();
  stubFetch(() => json(401, { error: 'wrong name or password' }));
  const wrong = await failure(api.login('alice', 'nope'));
  assert.equal(wrong.kind, 'unauthorized');
  assert.equal(wrong.detail, 'wrong name or password');
  assert.equal(session.getState(), before);
  assert.equal(en.loginRefused(wrong.detail), 'The server refused the login: wrong name or password.');

  stubFetch(() => json(429, { error: 'too many login attempts' }, { 'Retry-After': '30' }));
  const slow = await failure(api.login('alice', 'nope'));
  assert.equal(slow.kind, 'tooManyRequests');
  assert.equal(slow.retryAfter, 30);
  assert.equal(errorSentence(slow, en, String), 'Too many attempts: too many login attempts. Try again in 30 s.');
  assert.equal(errorSentence(slow, ko, String), '시도가 너무 많습니다: too many login attempts. 30초 뒤에 다시 시도하세요.');
});

test('a slow request of the previous session answering 401 after a new login is ignored', async () => {
  session.dispatch({ type: 'loggedIn', session: alice });
  let release: (response: Response) => void = () => undefined;
  stubFetch(() => new Promise<Response>((resolve) => (release = resolve)));
  const slow = api.alerts({});
  session.dispatch({ type: 'loggedIn', session: alice }); // a new login meanwhile (new cookie)
  release(json(401, { error: 'session expired' }));
  await failure(slow);
  assert.equal(session.getState().status, 'signedIn');
});

test('a 403 is a sentence about the role and leaves the session alone', async () => {
  session.dispatch({ type: 'loggedIn', session: viewer });
  stubFetch(() => json(403, { error: 'role viewer may not acknowledge alerts' }));
  const error = await failure(api.act(4, 'acknowledge', { note: 'x' }));
  assert.equal(error.kind, 'forbidden');
  assert.equal(session.getState().status, 'signedIn');
  assert.equal(errorSentence(error, en, String), 'Your role does not allow this: role viewer may not acknowledge alerts');
});

test('alert actions no longer send an actor: the server records the logged-in user', async () => {
  session.dispatch({ type: 'loggedIn', session: alice });
  const sent = stubFetch(() => json(200, { alert: { id: 4 } }));
  await api.act(4, 'resolve', { note: '  belt replaced ' });
  await api.act(5, 'acknowledge', { note: '   ' });
  assert.deepEqual(sent.map((s) => [s.url, s.method, s.body]), [
    ['/api/v1/alerts/4/resolve', 'POST', { note: 'belt replaced' }],
    ['/api/v1/alerts/5/acknowledge', 'POST', {}],
  ]);
});

test('logout deletes the session (204) and shows the login page; a network error changes nothing', async () => {
  session.dispatch({ type: 'loggedIn', session: alice });
  const sent = stubFetch(() => new Response(null, { status: 204 }));
  await api.logout();
  assert.deepEqual(sent.map((s) => s.method + ' ' + s.url), ['DELETE /api/v1/session']);
  assert.equal(session.getState().status, 'anonymous');

  session.dispatch({ type: 'loggedIn', session: alice });
  stubFetch(() => Promise.reject(new TypeError('Failed to fetch')));
  const error = await failure(api.alerts({}));
  assert.equal(error.kind, 'network');
  assert.equal(session.getState().status, 'signedIn');
});

test('the start-up check: 200 logs in, 401 shows the login page', async () => {
  session.dispatch({ type: 'loggedOut' });
  stubFetch(() => json(200, viewer));
  await api.session();
  const state = session.getState();
  assert.equal(state.status === 'signedIn' && state.user.role, 'viewer');
  stubFetch(() => json(401, { error: 'not logged in' }));
  await failure(api.session());
  assert.equal(session.getState().status, 'anonymous');
});

test('admin calls: list, add and remove users, create and revoke tokens', async () => {
  session.dispatch({ type: 'loggedIn', session: { user: { name: 'root', role: 'admin' }, expires: 'x' } });
  const created = { token: { id: 't1', role: 'device', device: 'press_1', name: null, created: '2026-11-30T01:00:00Z', last_used: null }, secret: 'moby_abc' };
  const sent = stubFetch((url, init) => {
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
    if (url === '/api/v1/tokens' && init.method === 'POST') return json(201, created);
    if (url === '/api/v1/users' && init.method === 'POST') return new Response(null, { status: 201 });
    return json(200, url.endsWith('users') ? { users: [] } : { tokens: [] });
  });
  assert.deepEqual(await api.users(), { users: [] });
  assert.equal(await api.addUser({ name: '김민수', role: 'operator', password: 'pw' }), undefined, 'a 201 without a body');
  await api.removeUser('김민수');
  assert.deepEqual(await api.createToken({ role: 'device', device: 'press_1' }), created);
  await api.revokeToken('t/1');
  assert.deepEqual(sent.map((s) => `${s.method} ${s.url}`), [
    'GET /api/v1/users',
    'POST /api/v1/users',
    `DELETE /api/v1/users/${encodeURIComponent('김민수')}`,
    'POST /api/v1/tokens',
    'DELETE /api/v1/tokens/t%2F1',
  ]);
});

// -- routes and the Access page's forms ---------------------------------------------------------

test('the Access page has a route of its own', () => {
  assert.deepEqual(parseRoute('#/access'), { page: 'access' });
  assert.equal(routeHref({ page: 'access' }), '#/access');
});

test('the user form: name and password required, the name trimmed, the password as typed', () => {
  assert.deepEqual(userFormProblems(emptyUserForm).map((p) => p.field), ['name', 'password']);
  const form = { name: '  김민수 ', role: 'operator' as const, password: ' secret ' };
  assert.deepEqual(userFormProblems(form), []);
  assert.deepEqual(userBody(form), { name: '김민수', role: 'operator', password: ' secret ' });
});

test('the token form: a device token needs its device; others send no device', () => {
  assert.deepEqual(tokenFormProblems(emptyTokenForm), [{ field: 'device', code: 'required' }]);
  assert.deepEqual(tokenBody({ role: 'device', device: ' press_1 ', name: '' }), { role: 'device', device: 'press_1' });
  assert.deepEqual(tokenFormProblems({ role: 'viewer', device: '', name: '' }), []);
  assert.deepEqual(tokenBody({ role: 'viewer', device: 'press_1', name: ' grafana ' }), { role: 'viewer', name: 'grafana' });
});

test('tokens newest first; users by name; a token is named by name, device or id', () => {
  const token = (id: string, created: string, extra: Partial<TokenEntry> = {}): TokenEntry => ({ id, role: 'viewer', created, ...extra });
  const sorted = sortTokens([token('a', '2026-11-01T00:00:00Z'), token('b', '2026-11-03T00:00:00Z'), token('c', '2026-11-02T00:00:00Z')]);
  assert.deepEqual(sorted.map((t) => t.id), ['b', 'c', 'a']);
  const users = sortUsers(
    [{ name: '최', role: 'viewer', created: '' }, { name: '김', role: 'viewer', created: '' }, { name: '박', role: 'viewer', created: '' }],
    'ko-KR',
  );
  assert.deepEqual(users.map((u) => u.name), ['김', '박', '최']);
  assert.equal(tokenLabel(token('7', '', { name: 'grafana' })), 'grafana');
  assert.equal(tokenLabel(token('7', '', { device: 'press_1' })), 'press_1');
  assert.equal(tokenLabel(token('7', '')), '#7');
});
