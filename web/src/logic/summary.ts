// An alert's summary in the operator's language, from its structured fields (which metrics,
// how far off, past which limit, the score): the server's own summary is English only.
import type { Alert, Contributor } from '../api/types';
import type { Messages } from '../i18n';
import { formatDateTime, formatNumber, type Lang } from '../i18n/format';
import { DEFAULT_PROFILE } from './profiles';

/** A metric's name in the chosen language (its key when the tables do not know it). */
export function metricName(metric: string, t: Messages): string {
  const key = `metric_${metric}` as keyof Messages;
  const name = t[key];
  return typeof name === 'string' ? name : metric;
}

function one(value: number, lang: Lang): string {
  return formatNumber(value, lang, 1);
}

export function describeContributor(c: Contributor, lang: Lang, t: Messages): string {
  const unit = c.unit ? ` ${c.unit}` : '';
  let text = `${metricName(c.metric, t)} ${one(c.value, lang)}${unit}`;
  if (c.nominal !== undefined) {
    const offset = c.value - c.nominal;
    const parts = [t.summaryOffset(`${one(Math.abs(offset), lang)}${unit}`, offset >= 0, one(c.nominal, lang))];
    if (c.limit !== undefined && c.severity) {
      parts.push(t.summaryPastLimit(t[`severity_${c.severity}`], one(c.limit, lang)));
    }
    text += ` (${parts.join(', ')})`;
  }
  return text;
}

/** The device as a summary names it: with the profile that judged it when not the default. */
export function summaryDevice(alert: Pick<Alert, 'device_id' | 'profile'>, t: Messages): string {
  return alert.profile && alert.profile !== DEFAULT_PROFILE ? t.summaryDeviceProfile(alert.device_id, alert.profile) : alert.device_id;
}

/** The summary to show: the LLM's narrative when there is one is shown separately; this one is
 *  always in the chosen language. */
export function alertSummary(alert: Alert, lang: Lang, t: Messages): string {
  const metrics = alert.contributors.slice(0, 3).map((c) => describeContributor(c, lang, t));
  const lead = t.summaryLead(t[`severity_${alert.severity}`], summaryDevice(alert, t), formatDateTime(alert.raised_at, lang));
  const score = t.summaryScore(one(alert.score, lang), one(alert.peak_score, lang), alert.reading_count);
  return `${lead}: ${metrics.join('; ')}. ${score}`;
}
