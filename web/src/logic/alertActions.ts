// Which of the chosen alerts an action applies to: acknowledging takes pending alerts only (an
// acknowledged one would come back as a 409 "already acknowledged"), resolving any that is not
// resolved yet. The buttons and the keyboard shortcuts (A / R) follow the same rule.
import type { AlertAction } from '../api/client';
import type { Alert, AlertStatus } from '../api/types';

export function actionable<T extends { status: AlertStatus }>(targets: readonly T[], action: AlertAction): T[] {
  return targets.filter((a) => (action === 'acknowledge' ? a.status === 'pending' : a.status !== 'resolved'));
}

/** The later of two states of one alert (by `updated_at`): what a view shows when the answer to
 *  its own action may arrive before the stream says the same (or while the stream reconnects). */
export function latest(streamed: Alert, acted: Alert | undefined): Alert {
  if (!acted || acted.id !== streamed.id) return streamed;
  return Date.parse(acted.updated_at) > Date.parse(streamed.updated_at) ? acted : streamed;
}
