// The one HTTP client of the console: every request to moby-server goes through `request`.
// Authentication: the browser sends the HttpOnly `moby_session` cookie with every same-origin
// request (JS never sees it). A 401 from any request (the session expired, was revoked, or never
// existed) is handled here, once: it moves the session store to "anonymous" and the console shows
// its login page; views never handle 401 themselves.
import type {
  Alert,
  AlertDetail,
  AlertList,
  AlertQuery,
  Catalog,
  ConsoleSettings,
  CreatedToken,
  Device,
  DeviceList,
  DeviceUpdate,
  ErrorBody,
  NewToken,
  NewUser,
  Readiness,
  ReadingSeries,
  SessionInfo,
  TokenList,
  UserList,
} from './types';
import { createStore } from '../logic/store';
import { initialSessionState, retryAfterSeconds, sessionReducer, type SessionAction, type SessionState } from '../logic/session';

/** What went wrong, in terms the UI turns into a sentence (see `errorSentence`). */
export type ErrorKind =
  | 'network'
  | 'badRequest'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'conflict'
  | 'tooManyRequests'
  | 'unavailable'
  | 'server'
  | 'invalidAnswer';

export class ApiError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly status: number,
    /** The server's own words (`{"error": …}`), or the browser's for network failures. */
    readonly detail: string,
    readonly fields: { field: string; message: string }[] = [],
    /** For a 409 on an alert action: the alert as it is now, to say who did what. */
    readonly current?: AlertDetail,
    /** For a 429: seconds to wait (its Retry-After header), when the server said. */
    readonly retryAfter: number | null = null,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export function kindOfStatus(status: number): ErrorKind {
  if (status === 400 || status === 413 || status === 422) return 'badRequest';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 429) return 'tooManyRequests';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'server';
}

/** Whether the console is logged in (logic/session.ts); fed by this module only. */
export const session = createStore<SessionState, SessionAction>(sessionReducer, initialSessionState);

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Statuses whose JSON body is an answer, not an error (e.g. 503 of /health/ready). */
  okStatuses?: number[];
  text?: boolean;
  signal?: AbortSignal;
  /** The login itself: its 401 means "wrong name or password", not "the session ended". */
  login?: boolean;
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: options.text ? 'text/plain' : 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  // The session this request speaks for: a 401 for an older one (replaced by a login since) is ignored.
  const epoch = session.getState().epoch;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      // Sends the session cookie (same origin only; it is SameSite=Strict and HttpOnly).
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError('network', 0, error instanceof Error ? error.message : String(error));
  }
  const accepted = response.ok || (options.okStatuses ?? []).includes(response.status);
  if (!accepted) {
    let body: Partial<ErrorBody> = {};
    try {
      body = (await response.json()) as ErrorBody;
    } catch {
      body = {};
    }
    if (response.status === 401 && !options.login) session.dispatch({ type: 'unauthorized', epoch });
    throw new ApiError(
      kindOfStatus(response.status),
      response.status,
      body.error ?? `HTTP ${response.status}`,
      body.errors ?? [],
      undefined,
      response.status === 429 ? retryAfterSeconds(response.headers.get('Retry-After'), Date.now()) : null,
    );
  }
  let raw: string;
  try {
    raw = await response.text();
  } catch (error) {
    throw new ApiError('invalidAnswer', response.status, error instanceof Error ? error.message : String(error));
  }
  if (options.text) return raw as T;
  // 204 (logout, removals) and a 201 without a body have nothing to read.
  if (raw.trim() === '') return undefined as T;
  try {
    return JSON.parse(raw) as T;
  } catch (error) {
    throw new ApiError('invalidAnswer', response.status, error instanceof Error ? error.message : String(error));
  }
}

/** `?a=1&b=x,y` from defined values; arrays become comma lists, as the server expects. */
export function queryString(params: Record<string, string | number | readonly string[] | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      parts.push(`${encodeURIComponent(key)}=${value.map(encodeURIComponent).join(',')}`);
    } else {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export type AlertAction = 'acknowledge' | 'resolve';

export const api = {
  devices(limit = 5000, offset = 0, signal?: AbortSignal): Promise<DeviceList> {
    return request(`/api/v1/devices${queryString({ limit, offset })}`, { signal });
  },

  /** One device; null when the server has not heard from it since it started (asked as a
   *  filtered list, so an unknown device is an empty answer, not a 404 the browser logs). */
  async device(id: string, signal?: AbortSignal): Promise<Device | null> {
    const list = await request<DeviceList>(`/api/v1/devices${queryString({ id })}`, { signal });
    return list.devices[0] ?? null;
  },

  /** Every device, page by page (the server answers at most 5,000 at a time). */
  async allDevices(signal?: AbortSignal): Promise<DeviceList> {
    const first = await api.devices(5000, 0, signal);
    const devices = [...first.devices];
    while (devices.length < first.total) {
      const page = await api.devices(5000, devices.length, signal);
      if (page.devices.length === 0) break;
      devices.push(...page.devices);
    }
    return { ...first, devices, limit: devices.length };
  },

  /**
   * Sets a device's registry entry (registering it when the server does not know it): 200 or 201
   * with the device. A 422 is thrown with the server's field errors (`fields`: name, location,
   * line, profile, labels.<key>) for the form to show next to its fields.
   */
  updateDevice(id: string, body: DeviceUpdate): Promise<Device> {
    return request(`/api/v1/devices/${encodeURIComponent(id)}`, { method: 'PUT', body });
  },

  alerts(query: AlertQuery, signal?: AbortSignal): Promise<AlertList> {
    return request(
      `/api/v1/alerts${queryString({
        status: query.status,
        severity: query.severity,
        device: query.device,
        from: query.from,
        to: query.to,
        limit: query.limit,
        offset: query.offset,
      })}`,
      { signal },
    );
  },

  alert(id: number, signal?: AbortSignal): Promise<AlertDetail> {
    return request(`/api/v1/alerts/${id}`, { signal });
  },

  /**
   * Acknowledges or resolves one alert as the logged-in user. A 409 (someone acted first) is thrown with the alert
   * as it is now, so the UI can say who did what.
   */
  async act(id: number, action: AlertAction, body: { note?: string }): Promise<Alert> {
    // The server records the logged-in user as the actor (an `actor` field would be ignored).
    const payload: { note?: string } = {};
    if (body.note?.trim()) payload.note = body.note.trim();
    try {
      const detail = await request<AlertDetail>(`/api/v1/alerts/${id}/${action}`, { method: 'POST', body: payload });
      return detail.alert;
    } catch (error) {
      if (error instanceof ApiError && error.kind === 'conflict') {
        let current: AlertDetail | undefined;
        try {
          current = await api.alert(id);
        } catch {
          current = undefined;
        }
        throw new ApiError(error.kind, error.status, error.detail, error.fields, current);
      }
      throw error;
    }
  },

  catalog(): Promise<Catalog> {
    return request('/api/v1/catalog');
  },

  readings(
    params: { device: string; metrics?: string[]; from: string; to?: string; points?: number },
    signal?: AbortSignal,
  ): Promise<ReadingSeries> {
    return request(
      `/api/v1/readings${queryString({
        device: params.device,
        metric: params.metrics,
        from: params.from,
        to: params.to,
        points: params.points,
      })}`,
      { signal },
    );
  },

  readiness(): Promise<Readiness> {
    return request('/health/ready', { okStatuses: [503] });
  },

  metricsText(): Promise<string> {
    return request('/metrics', { text: true });
  },

  /** Optional console settings; a server without the endpoint (404) has no Grafana. */
  async consoleSettings(): Promise<ConsoleSettings> {
    try {
      const settings = await request<Partial<ConsoleSettings>>('/api/v1/console');
      return { grafana: settings.grafana ?? null };
    } catch (error) {
      if (error instanceof ApiError && error.kind === 'notFound') return { grafana: null };
      throw error;
    }
  },

  /** Who is logged in (200), else 401, which moves the session store to "anonymous". */
  async session(): Promise<SessionInfo> {
    const epoch = session.getState().epoch;
    const info = await request<SessionInfo>('/api/v1/session');
    session.dispatch({ type: 'checked', epoch, session: info });
    return info;
  },

  /** Logs in: the server sets the session cookie. A 401 (wrong name or password) or 429 (too
   *  many attempts, with `retryAfter`) is thrown for the login page to say. */
  async login(name: string, password: string): Promise<SessionInfo> {
    const info = await request<SessionInfo>('/api/v1/session', { method: 'POST', body: { name, password }, login: true });
    session.dispatch({ type: 'loggedIn', session: info });
    return info;
  },

  /** Logs out (204; the server clears the cookie), then the login page. */
  async logout(): Promise<void> {
    await request<void>('/api/v1/session', { method: 'DELETE' });
    session.dispatch({ type: 'loggedOut' });
  },

  users(signal?: AbortSignal): Promise<UserList> {
    return request('/api/v1/users', { signal });
  },

  addUser(body: NewUser): Promise<unknown> {
    return request('/api/v1/users', { method: 'POST', body });
  },

  removeUser(name: string): Promise<void> {
    return request(`/api/v1/users/${encodeURIComponent(name)}`, { method: 'DELETE' });
  },

  tokens(signal?: AbortSignal): Promise<TokenList> {
    return request('/api/v1/tokens', { signal });
  },

  /** Creates an API token; the answer holds its secret, which the server never shows again. */
  createToken(body: NewToken): Promise<CreatedToken> {
    return request('/api/v1/tokens', { method: 'POST', body });
  },

  revokeToken(id: string | number): Promise<void> {
    return request(`/api/v1/tokens/${encodeURIComponent(String(id))}`, { method: 'DELETE' });
  },
};
