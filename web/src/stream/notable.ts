// Which fresh events deserve a toast: a raise, and an escalation to critical (an update that
// turns a warning alert critical, acknowledged or not). Acknowledging or resolving an alert takes
// its toast away.
import type { Alert, AlertEventMessage } from '../api/types';

export type Notable =
  | { kind: 'raised' | 'escalated'; alert: Alert; seq: number }
  | { kind: 'closed'; alert: Alert; seq: number };

export function notableChanges(open: ReadonlyMap<number, Alert>, events: readonly AlertEventMessage[]): Notable[] {
  const severities = new Map<number, Alert['severity']>();
  const severityOf = (id: number) => severities.get(id) ?? open.get(id)?.severity;
  const notable: Notable[] = [];
  for (const event of events) {
    const alert = event.alert;
    const before = severityOf(alert.id);
    severities.set(alert.id, alert.severity);
    switch (event.type) {
      case 'alert.raised':
        notable.push({ kind: 'raised', alert, seq: event.seq });
        break;
      case 'alert.updated':
        // Escalated: critical now, and not critical when we last saw it (or never seen). An
        // acknowledged warning that turns critical is news too: someone is on it, but it got worse.
        if (alert.severity === 'critical' && before !== 'critical' && alert.status !== 'resolved') {
          notable.push({ kind: 'escalated', alert, seq: event.seq });
        }
        break;
      case 'alert.acknowledged':
      case 'alert.resolved':
        notable.push({ kind: 'closed', alert, seq: event.seq });
        break;
    }
  }
  return notable;
}
