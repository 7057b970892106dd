import type { AlertStatus, Device } from '../api/types';
import { useI18n } from '../i18n';

export function DeviceStatusBadge({ status }: { status: Device['status'] }) {
  const { t } = useI18n();
  return (
    <span className={`status status-${status}`} data-testid="device-status" data-status={status}>
      <span className="dot" aria-hidden="true" />
      {t[`deviceStatus_${status}`]}
    </span>
  );
}

export function AlertStatusBadge({ status }: { status: AlertStatus }) {
  const { t } = useI18n();
  return (
    <span className={`alert-status alert-status-${status}`} data-testid="alert-status" data-status={status}>
      {t[`alertStatus_${status}`]}
    </span>
  );
}
