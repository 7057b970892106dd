// Deep links: a URL per page, device and alert, in the hash (#/devices/sensor_001, #/alerts/42,
// #/access for an admin's users and tokens)
// so every link works whatever path the server serves the console at.

export type Route =
  | { page: 'fleet' }
  | { page: 'device'; deviceId: string }
  | { page: 'alerts'; alertId: number | null }
  | { page: 'pipeline' }
  | { page: 'access' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '');
  const [first, second] = path.split('/');
  switch (first) {
    case 'devices': {
      if (second) {
        try {
          return { page: 'device', deviceId: decodeURIComponent(second) };
        } catch {
          return { page: 'fleet' };
        }
      }
      return { page: 'fleet' };
    }
    case 'alerts': {
      const id = Number(second);
      return { page: 'alerts', alertId: second && Number.isInteger(id) && id > 0 ? id : null };
    }
    case 'pipeline':
      return { page: 'pipeline' };
    case 'access':
      return { page: 'access' };
    default:
      return { page: 'fleet' };
  }
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case 'fleet':
      return '#/';
    case 'device':
      return `#/devices/${encodeURIComponent(route.deviceId)}`;
    case 'alerts':
      return route.alertId === null ? '#/alerts' : `#/alerts/${route.alertId}`;
    case 'pipeline':
      return '#/pipeline';
    case 'access':
      return '#/access';
  }
}
