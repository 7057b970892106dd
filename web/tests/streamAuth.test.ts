// The /ws client and the session: a socket that keeps failing makes the client ask whether the
// session still holds; a 401 there stops the reconnects; a start after the next login resumes
// with ?since= after the last event applied. Runs the real client over a fake WebSocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertStreamClient } from '../src/stream/client';
import { initialStreamState, SESSION_CHECK_AFTER_FAILURES, shouldCheckSession, streamReducer } from '../src/stream/reducer';
import { alert } from './fixtures';

class FakeSocket {
  static made: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  open() {
    this.onopen?.();
  }
  send(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  /** The connection ends (or never opened: a refused upgrade looks the same to a browser). */
  fail() {
    this.onclose?.();
  }
  close() {
    this.closed = true;
  }
}

const g = globalThis as unknown as Record<string, unknown>;
g.window = { addEventListener() {}, removeEventListener() {} };
g.WebSocket = FakeSocket;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function client(answer: () => Promise<boolean | null>) {
  FakeSocket.made = [];
  let checks = 0;
  const stream = new AlertStreamClient(
    () => 'ws://console',
    () => {
      checks += 1;
      return answer();
    },
  );
  return { stream, checks: () => checks, sockets: FakeSocket.made };
}

test('the session is checked only once sockets keep failing without opening', () => {
  assert.equal(shouldCheckSession(1, false), false);
  assert.equal(shouldCheckSession(SESSION_CHECK_AFTER_FAILURES, false), true);
  assert.equal(shouldCheckSession(5, true), false, 'a socket that opened then closed is a restart, not a refusal');
});

test('a restart keeps the last sequence and the open alerts, and counts failures afresh', () => {
  let state = streamReducer(initialStreamState, { type: 'messages', messages: [{ type: 'snapshot', seq: 9, alerts: [alert({ id: 3 })] }] });
  state = streamReducer(streamReducer(state, { type: 'closed', retryAt: 1 }), { type: 'closed', retryAt: 2 });
  const started = streamReducer(state, { type: 'started' });
  assert.equal(started.lastSeq, 9);
  assert.deepEqual([...started.open.keys()], [3]);
  assert.equal(started.failures, 0);
  assert.equal(started.retryAt, null);
  assert.equal(started.connection, 'reconnecting');
  assert.equal(streamReducer(initialStreamState, { type: 'started' }).connection, 'connecting');
});

test('401 on the session check: no more reconnects; a start after login resumes with ?since=', async () => {
  const { stream, checks, sockets } = client(async () => false);
  stream.start();
  assert.equal(sockets[0].url, 'ws://console/ws');
  sockets[0].open();
  sockets[0].send({ type: 'snapshot', seq: 41, alerts: [] });
  sockets[0].send({ type: 'alert.raised', seq: 42, at: '2026-11-30T01:00:00Z', alert: alert({ id: 8 }) });
  sockets[0].fail(); // e.g. the server restarted: it had opened, so no check
  assert.equal(checks(), 0);
  await until('a second socket', () => sockets.length === 2);
  assert.equal(sockets[1].url, 'ws://console/ws?since=42');
  sockets[1].fail(); // refused (401): never opened; the second failure in a row
  assert.equal(checks(), 1);
  await until('the client to stop', () => !stream.running);
  await sleep(1200); // longer than the backoff after two failures
  assert.equal(sockets.length, 2, 'no reconnect after the 401');

  stream.start(); // after the next login
  assert.equal(sockets.length, 3);
  assert.equal(sockets[2].url, 'ws://console/ws?since=42');
  assert.equal(stream.getState().failures, 0);
  assert.deepEqual([...stream.getState().open.keys()], [8]);
  stream.stop();
});

test('a server that cannot be reached (or a session that holds) keeps the reconnects going', async () => {
  for (const answer of [null, true]) {
    const { stream, checks, sockets } = client(async () => answer);
    stream.start();
    sockets[0].fail();
    assert.equal(checks(), 0, 'one failure is not yet "keeps failing"');
    await until('a second socket', () => sockets.length === 2);
    sockets[1].fail();
    await until('the check', () => checks() === 1);
    await until('a third socket', () => sockets.length === 3);
    assert.equal(stream.running, true, `check answered ${answer}`);
    stream.stop();
  }
});

test('a check answered after stop (e.g. logout) changes nothing', async () => {
  let answer: (value: boolean) => void = () => undefined;
  const { stream, sockets } = client(() => new Promise<boolean>((resolve) => (answer = resolve)));
  stream.start();
  sockets[0].fail();
  await until('a second socket', () => sockets.length === 2);
  sockets[1].fail();
  stream.stop();
  stream.start(); // logged in again before the old check answered
  answer(false);
  await sleep(20);
  assert.equal(stream.running, true);
  stream.stop();
});
