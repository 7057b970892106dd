// Numbers, dates and "3 min ago" through Intl, for the chosen locale. Pure: `now` is passed in.

export type Lang = 'ko' | 'en';

export const localeOf: Record<Lang, string> = { ko: 'ko-KR', en: 'en-US' };

const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string, digits: number): Intl.NumberFormat {
  const key = `${locale}/${digits}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
    numberFormats.set(key, format);
  }
  return format;
}

/** Significant enough digits for a sensor value: 71.3, 0.12, 1,234. */
export function digitsFor(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return 0;
  if (magnitude >= 10) return 1;
  return 2;
}

export function formatNumber(value: number, lang: Lang, digits = digitsFor(value)): string {
  if (!Number.isFinite(value)) return '—';
  return numberFormat(localeOf[lang], digits).format(value);
}

/** `71.3 °C`, `45 %`; no space before a unit that is punctuation-like (°/s stays spaced). */
export function formatValue(value: number | undefined | null, unit: string | undefined, lang: Lang): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return '—';
  const number = formatNumber(value, lang);
  return unit ? `${number} ${unit}` : number;
}

export function formatDateTime(iso: string | number, lang: Lang): string {
  const date = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(localeOf[lang], {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(date);
}

/** Short time for chart axes: `14:05` within a day, `11/27 14:05` over longer ranges. */
export function formatAxisTime(ms: number, spanMs: number, lang: Lang): string {
  const options: Intl.DateTimeFormatOptions =
    spanMs > 36 * 3600_000
      ? { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }
      : spanMs > 2 * 3600_000
        ? { hour: '2-digit', minute: '2-digit' }
        : { hour: '2-digit', minute: '2-digit', second: '2-digit' };
  return new Intl.DateTimeFormat(localeOf[lang], options).format(new Date(ms));
}

const relativeUnits: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** "3 min. ago", "3분 전"; "now" under 5 s. */
export function formatRelative(iso: string | number, now: number, lang: Lang): string {
  const time = typeof iso === 'number' ? iso : Date.parse(iso);
  if (Number.isNaN(time)) return '—';
  const seconds = Math.round((time - now) / 1000);
  const format = new Intl.RelativeTimeFormat(localeOf[lang], { numeric: 'auto', style: 'short' });
  // Under 5 s, or slightly ahead (clocks of browser and server differ a little): now.
  if (Math.abs(seconds) < 5 || (seconds > 0 && seconds < 60)) return format.format(0, 'second');
  for (const [unit, size] of relativeUnits) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(seconds, 'second');
}
