import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en, type Messages } from './en';
import { ko } from './ko';
import { formatDateTime, formatNumber, formatRelative, formatValue, type Lang } from './format';
import { remember, remembered } from '../logic/storage';

export type { Lang, Messages };

export const tables: Record<Lang, Messages> = { en, ko };

/** Remembered choice, else the browser's language when it is English, else Korean (operators read Korean first). */
export function initialLang(stored: string | null, browser: string | undefined): Lang {
  if (stored === 'ko' || stored === 'en') return stored;
  return browser?.toLowerCase().startsWith('en') ? 'en' : 'ko';
}

export interface I18n {
  lang: Lang;
  t: Messages;
  setLang(lang: Lang): void;
  num(value: number, digits?: number): string;
  value(value: number | null | undefined, unit?: string): string;
  dateTime(iso: string | number): string;
  relative(iso: string | number, now: number): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() =>
    initialLang(remembered('lang'), globalThis.navigator?.language),
  );
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = tables[lang].appName;
  }, [lang]);
  const setLang = useCallback((next: Lang) => {
    remember('lang', next);
    setLangState(next);
  }, []);
  const i18n = useMemo<I18n>(
    () => ({
      lang,
      t: tables[lang],
      setLang,
      num: (value, digits) => formatNumber(value, lang, digits),
      value: (value, unit) => formatValue(value, unit, lang),
      dateTime: (iso) => formatDateTime(iso, lang),
      relative: (iso, now) => formatRelative(iso, now, lang),
    }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={i18n}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside I18nProvider');
  return i18n;
}
