// App-wide state the views share: the sensor catalog, console settings (Grafana), the live
// alert stream and the operator's name (sent as `actor` until authentication exists).
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Catalog, ConsoleSettings } from './api/types';
import { AlertStreamClient } from './stream/client';
import type { StreamState } from './stream/reducer';

export const stream = new AlertStreamClient();

export function useStream(): StreamState {
  return useSyncExternalStore(stream.subscribe, stream.getState);
}

export interface Shared {
  catalog: Catalog | null;
  settings: ConsoleSettings;
  operator: string;
  setOperator(name: string): void;
}

export const SharedContext = createContext<Shared>({
  catalog: null,
  settings: { grafana: null },
  operator: '',
  setOperator: () => undefined,
});

export function useShared(): Shared {
  return useContext(SharedContext);
}
