// Reconnect delays: capped exponential backoff with jitter ("equal jitter": half fixed, half random),
// so a hundred consoles do not reconnect in the same millisecond after a server restart.
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 15_000;

/** Delay before attempt `failures` (1 = after the first failure); `random` in [0, 1). */
export function backoffDelay(failures: number, random: number, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const ceiling = Math.min(cap, base * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random, 0), 1));
}
