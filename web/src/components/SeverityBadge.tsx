import type { Condition } from '../logic/fleet';
import { useI18n } from '../i18n';

const icons: Record<Condition, string> = { critical: '✖', warning: '▲', normal: '' };

/** Severity by colour, icon and text (never colour alone). */
export function SeverityBadge({ severity, quiet = false }: { severity: Condition; quiet?: boolean }) {
  const { t } = useI18n();
  if (severity === 'normal' && quiet) return null;
  return (
    <span className={`badge sev-${severity}`} data-testid="severity-badge" data-severity={severity}>
      {icons[severity] && <span aria-hidden="true">{icons[severity]} </span>}
      {t[`severity_${severity}`]}
    </span>
  );
}
