// The /ws connection: connects, hands incoming messages to the reducer in small batches,
// reconnects with capped exponential backoff and ?since=<last seq>, and tells listeners about
// fresh events (for toasts and live views). State changes go through `streamReducer` only.
// The session cookie authenticates the upgrade; a refused one (401) is only a failed socket to
// the browser, so when sockets keep failing the client asks GET /api/v1/session: a 401 there
// stops the stream (the API client has switched the console to its login page by then) instead
// of reconnecting forever; `start()` after the next login resumes where it stopped.
import { api, ApiError } from '../api/client';
import type { AlertEventMessage, StreamMessage } from '../api/types';
import { backoffDelay } from './backoff';
import {
  freshEvents,
  initialStreamState,
  shouldCheckSession,
  streamPath,
  streamReducer,
  type StreamAction,
  type StreamState,
} from './reducer';

/** true: logged in; false: not (401); null: could not tell (server down, network). */
export type SessionCheck = () => Promise<boolean | null>;

/** A silent socket (no event, no heartbeat) for this long is presumed dead and replaced. */
const SILENCE_LIMIT_MS = 45_000;
/** Messages arriving within this window are applied together (one render per burst). */
const BATCH_MS = 40;

type EventListener = (events: AlertEventMessage[], before: StreamState) => void;

export class AlertStreamClient {
  private state: StreamState = initialStreamState;
  private socket: WebSocket | null = null;
  private queue: StreamMessage[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  /** Bumped by start and stop, so an answer to a session check from before is ignored. */
  private generation = 0;
  private checking = false;
  private readonly stateListeners = new Set<() => void>();
  private readonly eventListeners = new Set<EventListener>();

  constructor(
    private readonly baseUrl: () => string = defaultBaseUrl,
    private readonly sessionValid: SessionCheck = defaultSessionCheck,
  ) {}

  getState = (): StreamState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  onEvents(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.generation += 1;
    this.dispatch({ type: 'started' });
    window.addEventListener('online', this.reconnectNow);
    window.addEventListener('offline', this.browserOffline);
    this.connect();
  }

  stop(): void {
    this.flush(); // what arrived is applied, so a later start resumes after it
    this.stopped = true;
    this.generation += 1;
    window.removeEventListener('online', this.reconnectNow);
    window.removeEventListener('offline', this.browserOffline);
    for (const timer of [this.flushTimer, this.retryTimer, this.silenceTimer]) if (timer) clearTimeout(timer);
    this.flushTimer = this.retryTimer = this.silenceTimer = null;
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Whether the client is running (started and not stopped, e.g. by a 401 on the session check). */
  get running(): boolean {
    return !this.stopped;
  }

  private dispatch(action: StreamAction): void {
    const next = streamReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.stateListeners) listener();
  }

  private connect(): void {
    if (this.stopped) return;
    this.retryTimer = null;
    this.dispatch({ type: 'connecting' });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.baseUrl() + streamPath(this.state.lastSeq));
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.dispatch({ type: 'opened' });
      this.armSilenceTimer();
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      this.armSilenceTimer();
      try {
        this.queue.push(JSON.parse(event.data) as StreamMessage);
      } catch {
        return; // not JSON: nothing the server sends; ignored
      }
      this.flushTimer ??= setTimeout(this.flush, BATCH_MS);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.flush(); // apply what arrived before the close, so the resume starts after it
      this.socket = null;
      this.scheduleRetry(opened);
    };
  }

  private flush = (): void => {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.queue.length === 0) return;
    const messages = this.queue;
    this.queue = [];
    const before = this.state;
    const fresh = freshEvents(before, messages);
    this.dispatch({ type: 'messages', messages });
    if (fresh.length) for (const listener of this.eventListeners) listener(fresh, before);
  };

  private scheduleRetry(opened = false): void {
    if (this.stopped) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const delay = backoffDelay(this.state.failures + 1, Math.random());
    this.dispatch({ type: 'closed', retryAt: Date.now() + delay });
    if (globalThis.navigator?.onLine === false) this.dispatch({ type: 'browserOffline' });
    this.retryTimer = setTimeout(() => this.connect(), delay);
    if (shouldCheckSession(this.state.failures, opened)) void this.checkSession();
  }

  /** Asks whether the session still holds; if not (401), stops instead of reconnecting forever. */
  private async checkSession(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const generation = this.generation;
    let valid: boolean | null;
    try {
      valid = await this.sessionValid();
    } catch {
      valid = null;
    } finally {
      this.checking = false;
    }
    if (valid === false && generation === this.generation && !this.stopped) this.stop();
  }

  private armSilenceTimer(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.socket?.close(4000, 'silent'), SILENCE_LIMIT_MS);
  }

  private reconnectNow = (): void => {
    if (this.socket || this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.connect();
  };

  private browserOffline = (): void => this.dispatch({ type: 'browserOffline' });
}

async function defaultSessionCheck(): Promise<boolean | null> {
  try {
    await api.session();
    return true;
  } catch (error) {
    return error instanceof ApiError && error.kind === 'unauthorized' ? false : null;
  }
}

function defaultBaseUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}
