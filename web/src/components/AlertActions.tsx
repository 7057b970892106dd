// Acknowledge / resolve one or several alerts with an optional note. Each result (including a
// 409 "someone acted first") is said in a sentence, never swallowed.
import { forwardRef, useId, useImperativeHandle, useState } from 'react';
import { api, type AlertAction } from '../api/client';
import { errorSentence } from '../api/errors';
import type { AlertStatus } from '../api/types';
import { useI18n } from '../i18n';
import { useShared } from '../state';

export interface ActionTarget {
  id: number;
  status: AlertStatus;
}

export interface AlertActionsHandle {
  run(action: AlertAction): void;
}

interface Props {
  targets: ActionTarget[];
  onDone?(): void;
  compact?: boolean;
}

/** `ref.run('acknowledge')` lets keyboard shortcuts act with the note typed here. */
export const AlertActions = forwardRef<AlertActionsHandle, Props>(function AlertActions({ targets, onDone, compact = false }, ref) {
  const i18n = useI18n();
  const { t, num } = i18n;
  const { operator } = useShared();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string; details: string[] } | null>(null);
  const noteId = useId();
  const canAck = targets.some((a) => a.status === 'pending');
  const canResolve = targets.some((a) => a.status !== 'resolved');
  const many = targets.length > 1;

  useImperativeHandle(ref, () => ({ run: (action) => void run(action) }));

  async function run(action: AlertAction) {
    if (busy || targets.length === 0) return;
    setBusy(true);
    setResult(null);
    const chosen = targets.filter((a) => (action === 'acknowledge' ? a.status !== 'resolved' : true));
    const outcomes = await Promise.allSettled(chosen.map((a) => api.act(a.id, action, { actor: operator, note })));
    const failures = outcomes.flatMap((o, i) =>
      o.status === 'rejected'
        ? [`#${chosen[i].id}: ${errorSentence(o.reason, t, (iso) => i18n.relative(iso, Date.now()))}`]
        : [],
    );
    const ok = outcomes.length - failures.length;
    const label = action === 'acknowledge' ? t.acknowledge : t.resolve;
    if (failures.length === 0) {
      setResult({ ok: true, text: t.actionDone(label, num(ok)), details: [] });
      setNote('');
    } else if (!many) {
      setResult({ ok: false, text: failures[0].replace(/^#\d+: /, ''), details: [] });
    } else {
      setResult({ ok: false, text: t.actionPartly(num(ok), num(failures.length)), details: failures });
    }
    setBusy(false);
    onDone?.();
  }

  return (
    <div className={`actions ${compact ? 'actions-compact' : ''}`}>
      <label htmlFor={noteId} className="note-label">
        {t.note}
      </label>
      <input
        id={noteId}
        className="note"
        value={note}
        maxLength={4000}
        placeholder={t.notePlaceholder}
        onChange={(e) => setNote(e.target.value)}
        data-testid="note-field"
      />
      <button type="button" disabled={busy || !canAck} onClick={() => run('acknowledge')} data-testid="ack-button">
        {many ? t.acknowledgeSelected(num(targets.length)) : t.acknowledge}
      </button>
      <button type="button" disabled={busy || !canResolve} onClick={() => run('resolve')} data-testid="resolve-button">
        {many ? t.resolveSelected(num(targets.length)) : t.resolve}
      </button>
      {result && (
        <div className={`notice ${result.ok ? 'notice-ok' : 'notice-error'}`} role={result.ok ? 'status' : 'alert'} data-testid="action-result">
          {result.text}
          {result.details.length > 0 && (
            <ul>
              {result.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
});
