import { useEffect, useState } from 'react';
import { stream } from './state';

/** A number that changes at most once per `ms` after alert events arrive (to refresh lists). */
export function useStreamTick(ms = 1000): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = stream.onEvents(() => {
      timer ??= setTimeout(() => {
        timer = null;
        setTick((n) => n + 1);
      }, ms);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [ms]);
  return tick;
}
