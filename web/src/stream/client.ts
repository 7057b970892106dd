// The /ws connection: connects, hands incoming messages to the reducer in small batches,
// reconnects with capped exponential backoff and ?since=<last seq>, and tells listeners about
// fresh events (for toasts and live views). State changes go through `streamReducer` only.
import type { AlertEventMessage, StreamMessage } from '../api/types';
import { backoffDelay } from './backoff';
import { freshEvents, initialStreamState, streamPath, streamReducer, type StreamAction, type StreamState } from './reducer';

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
  private readonly stateListeners = new Set<() => void>();
  private readonly eventListeners = new Set<EventListener>();

  constructor(private readonly baseUrl: () => string = defaultBaseUrl) {}

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
    window.addEventListener('online', this.reconnectNow);
    window.addEventListener('offline', this.browserOffline);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.reconnectNow);
    window.removeEventListener('offline', this.browserOffline);
    for (const timer of [this.flushTimer, this.retryTimer, this.silenceTimer]) if (timer) clearTimeout(timer);
    this.socket?.close(1000);
    this.socket = null;
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
    socket.onopen = () => {
      if (this.socket !== socket) return;
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
      this.scheduleRetry();
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

  private scheduleRetry(): void {
    if (this.stopped) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const delay = backoffDelay(this.state.failures + 1, Math.random());
    this.dispatch({ type: 'closed', retryAt: Date.now() + delay });
    if (globalThis.navigator?.onLine === false) this.dispatch({ type: 'browserOffline' });
    this.retryTimer = setTimeout(() => this.connect(), delay);
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

function defaultBaseUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}
