// The one HTTP client of the console: every request to moby-server goes through `request`,
// so authentication (its own issue) is added here, in `authorize`, and nowhere else.
import type {
  Alert,
  AlertDetail,
  AlertList,
  AlertQuery,
  Catalog,
  ConsoleSettings,
  Device,
  DeviceList,
  DeviceUpdate,
  ErrorBody,
  Readiness,
  ReadingSeries,
} from './types';

/** What went wrong, in terms the UI turns into a sentence (see `errorSentence`). */
export type ErrorKind = 'network' | 'badRequest' | 'notFound' | 'conflict' | 'unavailable' | 'server' | 'invalidAnswer';

export class ApiError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly status: number,
    /** The server's own words (`{"error": …}`), or the browser's for network failures. */
    readonly detail: string,
    readonly fields: { field: string; message: string }[] = [],
    /** For a 409 on an alert action: the alert as it is now, to say who did what. */
    readonly current?: AlertDetail,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export function kindOfStatus(status: number): ErrorKind {
  if (status === 400 || status === 413 || status === 422) return 'badRequest';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'server';
}

/** Headers every request carries; the place for credentials once the server asks for them. */
function authorize(headers: Record<string, string>): Record<string, string> {
  return headers;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT';
  body?: unknown;
  /** Statuses whose JSON body is an answer, not an error (e.g. 503 of /health/ready). */
  okStatuses?: number[];
  text?: boolean;
  signal?: AbortSignal;
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: options.text ? 'text/plain' : 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers: authorize(headers),
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
    throw new ApiError(
      kindOfStatus(response.status),
      response.status,
      body.error ?? `HTTP ${response.status}`,
      body.errors ?? [],
    );
  }
  try {
    return (options.text ? await response.text() : await response.json()) as T;
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
   * Acknowledges or resolves one alert. A 409 (someone acted first) is thrown with the alert
   * as it is now, so the UI can say who did what.
   */
  async act(id: number, action: AlertAction, body: { actor?: string; note?: string }): Promise<Alert> {
    const payload: { actor?: string; note?: string } = {};
    if (body.actor?.trim()) payload.actor = body.actor.trim();
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
};
