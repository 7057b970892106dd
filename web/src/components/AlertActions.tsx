// Acknowledge / resolve one or several alerts with an optional note, as the logged-in user (the
// server records who). Each result (including a 409 "someone acted first" and a 403) is said in a
// sentence, never swallowed; a role that may not act sees the buttons disabled and why.
import { forwardRef, useId, useImperativeHandle, useState } from 'react';
import { api, type AlertAction } from '../api/client';
import { errorSentence } from '../api/errors';
import type { Alert, AlertStatus } from '../api/types';
import { useI18n } from '../i18n';
import { useUser } from '../state';
import { deniedReason } from '../logic/permissions';
import { actionable } from '../logic/alertActions';

export interface ActionTarget {
  id: number;
  status: AlertStatus;
}

/** What the last action did, kept as data and said in the language of the moment. */
type Result =
  | { kind: 'denied'; action: AlertAction }
  | { kind: 'nothing'; action: AlertAction }
  | { kind: 'acted'; action: AlertAction; ok: number; failures: { id: number; error: unknown }[]; many: boolean; at: number };

export interface AlertActionsHandle {
  run(action: AlertAction): void;
}

interface Props {
  targets: ActionTarget[];
  /** After an action, with the alerts as the server answered (those it changed). */
  onDone?(changed: Alert[]): void;
  compact?: boolean;
}

/** `ref.run('acknowledge')` lets keyboard shortcuts act with the note typed here. */
export const AlertActions = forwardRef<AlertActionsHandle, Props>(function AlertActions({ targets, onDone, compact = false }, ref) {
  const i18n = useI18n();
  const { t, num } = i18n;
  const user = useUser();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const noteId = useId();
  const reasonId = useId();
  const denied = {
    acknowledge: deniedReason(user?.role, 'acknowledge', t),
    resolve: deniedReason(user?.role, 'resolve', t),
  };
  const reasons = [...new Set([denied.acknowledge, denied.resolve].filter((r): r is string => r !== null))];
  const mayAct = denied.acknowledge === null || denied.resolve === null;
  const canAck = actionable(targets, 'acknowledge').length > 0 && denied.acknowledge === null;
  const canResolve = actionable(targets, 'resolve').length > 0 && denied.resolve === null;
  const many = targets.length > 1;

  useImperativeHandle(ref, () => ({ run: (action) => void run(action) }));

  async function run(action: AlertAction) {
    if (busy || targets.length === 0) return;
    const refused = denied[action];
    if (refused) {
      // A keyboard shortcut (A / R) with a role that may not act: say so rather than do nothing.
      setResult({ kind: 'denied', action });
      return;
    }
    const chosen = actionable(targets, action);
    if (chosen.length === 0) {
      // A shortcut on alerts already past that step: say so rather than send requests bound to fail.
      setResult({ kind: 'nothing', action });
      return;
    }
    setBusy(true);
    setResult(null);
    const outcomes = await Promise.allSettled(chosen.map((a) => api.act(a.id, action, { note })));
    const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ id: chosen[i].id, error: o.reason as unknown }] : []));
    const ok = outcomes.length - failures.length;
    setResult({ kind: 'acted', action, ok, failures, many, at: Date.now() });
    if (failures.length === 0) setNote('');
    setBusy(false);
    onDone?.(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])));
  }

  // Said at render time, so the sentence follows a change of language.
  const said = result && sayResult(result);
  function sayResult(r: Result): { ok: boolean; text: string; details: string[] } {
    if (r.kind === 'denied') return { ok: false, text: deniedReason(user?.role, r.action, t) ?? '', details: [] };
    const label = r.action === 'acknowledge' ? t.acknowledge : t.resolve;
    if (r.kind === 'nothing') return { ok: false, text: t.nothingToDo(label), details: [] };
    const sentence = (error: unknown) => errorSentence(error, t, (iso) => i18n.relative(iso, r.at));
    if (r.failures.length === 0) return { ok: true, text: t.actionDone(label, num(r.ok), r.ok), details: [] };
    if (!r.many) return { ok: false, text: sentence(r.failures[0].error), details: [] };
    return {
      ok: false,
      text: t.actionPartly(num(r.ok), num(r.failures.length)),
      details: r.failures.map((f) => `#${f.id}: ${sentence(f.error)}`),
    };
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
        disabled={!mayAct}
        data-testid="note-field"
      />
      <button
        type="button"
        disabled={busy || !canAck}
        onClick={() => run('acknowledge')}
        aria-describedby={denied.acknowledge ? reasonId : undefined}
        title={denied.acknowledge ?? undefined}
        data-testid="ack-button"
      >
        {many ? t.acknowledgeSelected(num(targets.length)) : t.acknowledge}
      </button>
      <button
        type="button"
        disabled={busy || !canResolve}
        onClick={() => run('resolve')}
        aria-describedby={denied.resolve ? reasonId : undefined}
        title={denied.resolve ?? undefined}
        data-testid="resolve-button"
      >
        {many ? t.resolveSelected(num(targets.length)) : t.resolve}
      </button>
      {reasons.length > 0 && (
        <p className="role-reason" id={reasonId} data-testid="role-reason">
          {reasons.join(' ')}
        </p>
      )}
      {said && (
        <div className={`notice ${said.ok ? 'notice-ok' : 'notice-error'}`} role={said.ok ? 'status' : 'alert'} data-testid="action-result">
          {said.text}
          {said.details.length > 0 && (
            <ul>
              {said.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
});
