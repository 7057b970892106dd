// A 409 in words: who did what, when (and their note), from the alert as it is now.
import type { AlertDetail } from '../api/types';
import type { Messages } from '../i18n/en';

export function conflictSentence(
  current: AlertDetail | undefined,
  serverDetail: string,
  t: Messages,
  relative: (iso: string) => string,
): string {
  const alert = current?.alert;
  if (!alert) return t.error_conflict(serverDetail);
  const lastOf = (action: string) => [...(current.history ?? [])].reverse().find((h) => h.action === action);
  let sentence: string;
  let note: string | undefined;
  if (alert.status === 'resolved') {
    const step = lastOf('resolved');
    sentence = t.conflictResolved(alert.resolved_by ?? step?.actor ?? '?', relative(alert.resolved_at ?? step?.at ?? ''));
    note = step?.note;
  } else if (alert.status === 'acknowledged') {
    const step = lastOf('acknowledged');
    sentence = t.conflictAcknowledged(
      alert.acknowledged_by ?? step?.actor ?? '?',
      relative(alert.acknowledged_at ?? step?.at ?? ''),
    );
    note = step?.note;
  } else {
    return t.error_conflict(serverDetail);
  }
  return note ? `${sentence} ${t.conflictNote(note)}` : sentence;
}
