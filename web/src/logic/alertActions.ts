// Which of the chosen alerts an action applies to: acknowledging takes pending alerts only (an
// acknowledged one would come back as a 409 "already acknowledged"), resolving any that is not
// resolved yet. The buttons and the keyboard shortcuts (A / R) follow the same rule.
import type { AlertAction } from '../api/client';
import type { AlertStatus } from '../api/types';

export function actionable<T extends { status: AlertStatus }>(targets: readonly T[], action: AlertAction): T[] {
  return targets.filter((a) => (action === 'acknowledge' ? a.status === 'pending' : a.status !== 'resolved'));
}
