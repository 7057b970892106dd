// Access (admin only): the users who log into the console (list, add with role and password,
// remove) and the API tokens of devices and scripts (list, create — the secret is shown once,
// with a copy button —, revoke). Every result and refusal is said in a sentence.
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api/client';
import type { CreatedToken, Role } from '../api/types';
import { useI18n, type I18n } from '../i18n';
import { useLoad } from '../hooks';
import { useUser } from '../state';
import { deniedReason, roleLabel, tokenRoles, userRoles } from '../logic/permissions';
import {
  emptyTokenForm,
  emptyUserForm,
  sortTokens,
  sortUsers,
  tokenBody,
  tokenFormProblems,
  tokenLabel,
  userBody,
  userFormProblems,
  type FormProblem,
  type TokenForm,
  type UserForm,
} from '../logic/access';
import { localeOf } from '../i18n/format';
import { Empty, ErrorNotice, RelativeTime, Skeleton } from '../components/Feedback';

export function AccessView() {
  const { t } = useI18n();
  const user = useUser();
  const denied = deniedReason(user?.role, 'manageAccess', t);
  return (
    <section className="page access" aria-labelledby="access-title">
      <h1 id="access-title">{t.accessTitle}</h1>
      {denied || !user ? (
        <p className="notice role-reason" data-testid="role-reason">
          {denied}
        </p>
      ) : (
        <div className="access-layout">
          <UsersPanel me={user.name} />
          <TokensPanel />
        </div>
      )}
    </section>
  );
}

/** A result, said in the language of the moment (it follows a language switch). */
type Outcome = { ok: true; say(t: I18n['t']): string } | { ok: false; error: unknown } | null;

function OutcomeNotice({ outcome, testId }: { outcome: Outcome; testId: string }) {
  const { t } = useI18n();
  if (!outcome) return null;
  if (!outcome.ok) return <ErrorNotice error={outcome.error} />;
  return (
    <p className="notice notice-ok" role="status" data-testid={testId}>
      {outcome.say(t)}
    </p>
  );
}

/** Field errors: what the form found before sending, else the server's 422 `errors`. */
function fieldMessages(problems: FormProblem[], error: unknown, t: I18n['t']): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const p of problems) (byField[p.field] ??= []).push(t.fieldRequired);
  if (error instanceof ApiError && error.kind === 'badRequest')
    for (const f of error.fields) (byField[f.field] ??= []).push(f.message);
  return byField;
}

/** The state of an add or create form: its values, what was found wrong before sending, the
 *  server's refusal and whether a request is out. `submit` checks the form, focuses the first
 *  field in trouble, else sends it and keeps a refusal for the fields (a 400 with field errors)
 *  or above the form (anything else). */
function useAccessForm<F>(empty: F, problemsOf: (form: F) => FormProblem[]) {
  const { t } = useI18n();
  const [form, setForm] = useState<F>(empty);
  const [problems, setProblems] = useState<FormProblem[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const prefix = useId();
  const errors = fieldMessages(problems, failure, t);
  const formFailure = failure instanceof ApiError && failure.kind === 'badRequest' && failure.fields.length > 0 ? null : failure;

  async function submit(event: FormEvent, send: (form: F) => Promise<void>) {
    event.preventDefault();
    if (busy) return;
    const found = problemsOf(form);
    setProblems(found);
    setFailure(null);
    if (found.length) {
      document.getElementById(`${prefix}-${found[0].field}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      await send(form);
    } catch (error) {
      setFailure(error);
    }
    setBusy(false);
  }

  return { form, setForm, setProblems, errors, formFailure, busy, prefix, submit };
}

/** The server's field errors for fields the form does not show, each with its field's name. */
function OtherFieldErrors({ errors, shown }: { errors: Record<string, string[]>; shown: readonly string[] }) {
  return (
    <>
      {Object.entries(errors)
        .filter(([field]) => !shown.includes(field))
        .map(([field, messages]) => (
          <p key={field} className="field-error" data-testid="field-error" data-field={field}>
            {field}: {messages.join(' ')}
          </p>
        ))}
    </>
  );
}

function Field({
  id,
  label,
  errors,
  hint,
  name,
  children,
}: {
  id: string;
  label: string;
  errors?: string[];
  hint?: string;
  name: string;
  children: ReactNode;
}) {
  return (
    <div className={`field ${errors?.length ? 'field-invalid' : ''}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {errors?.length ? (
        <p className="field-error" id={`${id}-error`} data-testid="field-error" data-field={name}>
          {errors.join(' ')}
        </p>
      ) : null}
    </div>
  );
}

/** A destructive button that asks once more, in place ("Remove alice" → "Confirm" / "Cancel"). */
function ConfirmButton({ label, question, onConfirm, testId, disabled }: { label: string; question: string; onConfirm(): void; testId: string; disabled?: boolean }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)} disabled={disabled} data-testid={testId}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>{' '}
      <button
        type="button"
        className="danger"
        ref={confirmRef}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        data-testid={`${testId}-confirm`}
      >
        {t.confirm}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)} data-testid={`${testId}-cancel`}>
        {t.formCancel}
      </button>
    </span>
  );
}

function RoleOptions({ roles }: { roles: readonly Role[] }) {
  const { t } = useI18n();
  return (
    <>
      {roles.map((role) => (
        <option key={role} value={role}>
          {roleLabel(role, t)}
        </option>
      ))}
    </>
  );
}

function UsersPanel({ me }: { me: string }) {
  const { t, lang, dateTime } = useI18n();
  const [refresh, setRefresh] = useState(0);
  const list = useLoad((signal) => api.users(signal), 'users', undefined, refresh);
  const userForm = useAccessForm<UserForm>(emptyUserForm, userFormProblems);
  const { form, setForm, errors, formFailure, busy, prefix } = userForm;
  const [outcome, setOutcome] = useState<Outcome>(null);

  async function add(event: FormEvent) {
    setOutcome(null);
    await userForm.submit(event, async (form) => {
      const body = userBody(form);
      await api.addUser(body);
      setForm(emptyUserForm);
      setOutcome({ ok: true, say: (t) => t.userAdded(body.name, roleLabel(body.role, t)) });
      setRefresh((n) => n + 1);
    });
  }

  async function remove(name: string) {
    setOutcome(null);
    try {
      await api.removeUser(name);
      setOutcome({ ok: true, say: (t) => t.userRemoved(name) });
    } catch (error) {
      setOutcome({ ok: false, error });
    }
    setRefresh((n) => n + 1);
  }

  const users = list.data ? sortUsers(list.data.users, localeOf[lang]) : [];
  return (
    <section className="access-panel" aria-labelledby={`${prefix}-title`} data-testid="access-users">
      <h2 id={`${prefix}-title`}>{t.accessUsers}</h2>
      <OutcomeNotice outcome={outcome} testId="user-result" />
      {list.error != null && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {!list.data && list.error == null ? (
        <Skeleton rows={3} />
      ) : list.data && users.length === 0 ? (
        <Empty>{t.usersEmpty}</Empty>
      ) : (
        list.data && (
          <table className="access-table">
            <thead>
              <tr>
                <th scope="col">{t.columnName}</th>
                <th scope="col">{t.columnRole}</th>
                <th scope="col">{t.columnCreated}</th>
                <th scope="col">
                  <span className="visually-hidden">{t.columnAction}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.name} data-testid="user-row" data-name={u.name} data-role={u.role}>
                  <th scope="row">
                    {u.name}
                    {u.name === me && <span className="muted"> {t.userYou}</span>}
                  </th>
                  <td>{roleLabel(u.role, t)}</td>
                  <td>{u.created ? <time dateTime={u.created}>{dateTime(u.created)}</time> : t.notSet}</td>
                  <td>
                    {u.name === me ? (
                      <span className="muted small">{t.userRemoveSelf}</span>
                    ) : (
                      <ConfirmButton label={t.userRemove} question={t.userRemoveQuestion(u.name)} onConfirm={() => void remove(u.name)} testId="user-remove" />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}

      <form className="access-form" onSubmit={add} noValidate aria-labelledby={`${prefix}-add`} data-testid="user-form">
        <h3 id={`${prefix}-add`}>{t.userAdd}</h3>
        {formFailure != null && <ErrorNotice error={formFailure} />}
        <div className="form-grid">
          <Field id={`${prefix}-name`} name="name" label={t.columnName} errors={errors.name}>
            <input
              id={`${prefix}-name`}
              value={form.name}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={errors.name ? `${prefix}-name-error` : undefined}
              onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
              data-testid="user-name"
            />
          </Field>
          <Field id={`${prefix}-role`} name="role" label={t.columnRole} errors={errors.role}>
            <select
              id={`${prefix}-role`}
              value={form.role}
              onChange={(e) => setForm((f) => ({ ...f, role: e.target.value as Role }))}
              data-testid="user-role"
            >
              <RoleOptions roles={userRoles} />
            </select>
          </Field>
          <Field id={`${prefix}-password`} name="password" label={t.loginPassword} errors={errors.password}>
            <input
              id={`${prefix}-password`}
              type="password"
              value={form.password}
              autoComplete="new-password"
              aria-invalid={errors.password ? true : undefined}
              aria-describedby={errors.password ? `${prefix}-password-error` : undefined}
              onChange={(e) => setForm((f) => ({ ...f, password: e.target.value }))}
              data-testid="user-password"
            />
          </Field>
        </div>
        <OtherFieldErrors errors={errors} shown={['name', 'role', 'password']} />
        <button type="submit" className="primary" disabled={busy} data-testid="user-add">
          {t.userAdd}
        </button>
      </form>
    </section>
  );
}

function SecretPanel({ created, onDone }: { created: CreatedToken; onDone(): void }) {
  const { t } = useI18n();
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const prefix = useId();
  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied('ok');
    } catch {
      // No clipboard API (a page not served over https or from localhost): select and copy.
      inputRef.current?.focus();
      inputRef.current?.select();
      let ok = false;
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      setCopied(ok ? 'ok' : 'failed');
    }
  }

  return (
    <div className="secret notice" role="group" aria-labelledby={`${prefix}-title`} data-testid="token-secret-panel" data-token-id={String(created.token.id)}>
      <h3 id={`${prefix}-title`}>{t.tokenSecretTitle(tokenLabel(created.token))}</h3>
      <p className="sev-text-warning" id={`${prefix}-warning`} data-testid="token-secret-warning">
        {t.tokenSecretWarning}
      </p>
      <div className="secret-row">
        <label htmlFor={`${prefix}-secret`} className="visually-hidden">
          {t.tokenSecretLabel}
        </label>
        <input
          id={`${prefix}-secret`}
          ref={inputRef}
          className="secret-value"
          readOnly
          value={created.secret}
          aria-describedby={`${prefix}-warning`}
          onFocus={(e) => e.target.select()}
          data-testid="token-secret"
        />
        <button type="button" onClick={() => void copy()} data-testid="token-copy">
          {t.tokenCopy}
        </button>
        <button type="button" onClick={onDone} data-testid="token-secret-done">
          {t.tokenSecretDone}
        </button>
      </div>
      {copied && (
        <p role="status" className={copied === 'ok' ? 'muted' : 'sev-text-warning'} data-testid="token-copy-result">
          {copied === 'ok' ? t.tokenCopied : t.tokenCopyFailed}
        </p>
      )}
    </div>
  );
}

function TokensPanel() {
  const { t, dateTime } = useI18n();
  const [refresh, setRefresh] = useState(0);
  const list = useLoad((signal) => api.tokens(signal), 'tokens', undefined, refresh);
  const tokenForm = useAccessForm<TokenForm>(emptyTokenForm, tokenFormProblems);
  const { form, setForm, setProblems, errors, formFailure, busy, prefix } = tokenForm;
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);

  async function create(event: FormEvent) {
    setOutcome(null);
    await tokenForm.submit(event, async (form) => {
      setCreated(await api.createToken(tokenBody(form)));
      setForm((f) => ({ ...emptyTokenForm, role: f.role }));
      setRefresh((n) => n + 1);
    });
  }

  async function revoke(id: string | number, label: string) {
    setOutcome(null);
    try {
      await api.revokeToken(id);
      setOutcome({ ok: true, say: (t) => t.tokenRevoked(label) });
      if (created && String(created.token.id) === String(id)) setCreated(null);
    } catch (error) {
      setOutcome({ ok: false, error });
    }
    setRefresh((n) => n + 1);
  }

  const tokens = list.data ? sortTokens(list.data.tokens) : [];
  return (
    <section className="access-panel" aria-labelledby={`${prefix}-title`} data-testid="access-tokens">
      <h2 id={`${prefix}-title`}>{t.accessTokens}</h2>
      <p className="muted small">{t.tokensHint}</p>
      <OutcomeNotice outcome={outcome} testId="token-result" />
      {created && <SecretPanel key={String(created.token.id)} created={created} onDone={() => setCreated(null)} />}
      {list.error != null && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {!list.data && list.error == null ? (
        <Skeleton rows={3} />
      ) : list.data && tokens.length === 0 ? (
        <Empty>{t.tokensEmpty}</Empty>
      ) : (
        list.data && (
          <div className="table-wide">
            <table className="access-table">
              <thead>
                <tr>
                  <th scope="col">{t.columnName}</th>
                  <th scope="col">{t.columnRole}</th>
                  <th scope="col">{t.columnDevice}</th>
                  <th scope="col">{t.columnCreated}</th>
                  <th scope="col">{t.columnLastUsed}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t.columnAction}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((token) => (
                  <tr key={String(token.id)} data-testid="token-row" data-token-id={String(token.id)} data-role={token.role} data-device={token.device ?? ''}>
                    <th scope="row">
                      {token.name || <span className="muted">#{String(token.id)}</span>}
                    </th>
                    <td>{roleLabel(token.role, t)}</td>
                    <td className="access-id">{token.device || t.notSet}</td>
                    <td>{token.created ? <time dateTime={token.created}>{dateTime(token.created)}</time> : t.notSet}</td>
                    <td>{token.last_used ? <RelativeTime iso={token.last_used} /> : t.tokenNeverUsed}</td>
                    <td>
                      <ConfirmButton
                        label={t.tokenRevoke}
                        question={t.tokenRevokeQuestion(tokenLabel(token))}
                        onConfirm={() => void revoke(token.id, tokenLabel(token))}
                        testId="token-revoke"
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      )}

      <form className="access-form" onSubmit={create} noValidate aria-labelledby={`${prefix}-create`} data-testid="token-form">
        <h3 id={`${prefix}-create`}>{t.tokenCreate}</h3>
        {formFailure != null && <ErrorNotice error={formFailure} />}
        <div className="form-grid">
          <Field id={`${prefix}-role`} name="role" label={t.columnRole} errors={errors.role}>
            <select
              id={`${prefix}-role`}
              value={form.role}
              onChange={(e) => {
                setForm((f) => ({ ...f, role: e.target.value as Role }));
                setProblems([]);
              }}
              data-testid="token-role"
            >
              <RoleOptions roles={tokenRoles} />
            </select>
          </Field>
          {form.role === 'device' && (
            <Field id={`${prefix}-device`} name="device" label={t.columnDevice} errors={errors.device} hint={t.tokenDeviceHint}>
              <input
                id={`${prefix}-device`}
                value={form.device}
                autoComplete="off"
                spellCheck={false}
                aria-invalid={errors.device ? true : undefined}
                aria-describedby={[`${prefix}-device-hint`, errors.device ? `${prefix}-device-error` : ''].filter(Boolean).join(' ')}
                onChange={(e) => setForm((f) => ({ ...f, device: e.target.value }))}
                data-testid="token-device"
              />
            </Field>
          )}
          <Field id={`${prefix}-name`} name="name" label={t.tokenName} errors={errors.name}>
            <input
              id={`${prefix}-name`}
              value={form.name}
              autoComplete="off"
              aria-invalid={errors.name ? true : undefined}
              onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
              data-testid="token-name"
            />
          </Field>
        </div>
        <OtherFieldErrors errors={errors} shown={['role', 'device', 'name']} />
        <button type="submit" className="primary" disabled={busy} data-testid="token-create">
          {t.tokenCreate}
        </button>
      </form>
    </section>
  );
}
