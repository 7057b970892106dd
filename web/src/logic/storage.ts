// Remembered settings (language, theme, fleet grouping); never throws when storage is blocked.
export function remembered(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(`moby.${key}`) ?? null;
  } catch {
    return null;
  }
}

export function remember(key: string, value: string): void {
  try {
    globalThis.localStorage?.setItem(`moby.${key}`, value);
  } catch {
    // Private mode or blocked storage: the setting lasts for this page only.
  }
}
