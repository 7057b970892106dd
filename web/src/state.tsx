// App-wide state the views share: the sensor catalog, console settings (Grafana), the live
// alert stream, and who is logged in (the API client's session store).
import { createContext, useContext, useSyncExternalStore } from 'react';
import { session } from './api/client';
import type { Catalog, ConsoleSettings, SessionUser } from './api/types';
import type { SessionState } from './logic/session';
import { AlertStreamClient } from './stream/client';
import type { StreamState } from './stream/reducer';

export const stream = new AlertStreamClient();

export function useStream(): StreamState {
  return useSyncExternalStore(stream.subscribe, stream.getState);
}

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The logged-in user; null only outside the logged-in app (the login page). */
export function useUser(): SessionUser | null {
  const state = useSession();
  return state.status === 'signedIn' ? state.user : null;
}

export interface Shared {
  catalog: Catalog | null;
  settings: ConsoleSettings;
}

export const SharedContext = createContext<Shared>({
  catalog: null,
  settings: { grafana: null },
});

export function useShared(): Shared {
  return useContext(SharedContext);
}
