// The Access page's logic (admin): the bodies of POST /api/v1/users and /api/v1/tokens from the
// forms, what to check before sending, and the order of the lists.
import type { NewToken, NewUser, Role, TokenEntry, UserEntry } from '../api/types';

export interface UserForm {
  name: string;
  role: Role;
  password: string;
}

export interface TokenForm {
  role: Role;
  /** Only for role `device`: the device id the token publishes as. */
  device: string;
  name: string;
}

/** A problem found before sending: `field` as the server names it. */
export interface FormProblem {
  field: string;
  code: 'required';
}

export const emptyUserForm: UserForm = { name: '', role: 'viewer', password: '' };
export const emptyTokenForm: TokenForm = { role: 'device', device: '', name: '' };

export function userFormProblems(form: UserForm): FormProblem[] {
  const problems: FormProblem[] = [];
  if (!form.name.trim()) problems.push({ field: 'name', code: 'required' });
  if (!form.password) problems.push({ field: 'password', code: 'required' });
  return problems;
}

/** The name is trimmed; the password is sent as typed (spaces may be part of it). */
export function userBody(form: UserForm): NewUser {
  return { name: form.name.trim(), role: form.role, password: form.password };
}

export function tokenFormProblems(form: TokenForm): FormProblem[] {
  return form.role === 'device' && !form.device.trim() ? [{ field: 'device', code: 'required' }] : [];
}

/** `device` only for a device token; blank fields are left out. */
export function tokenBody(form: TokenForm): NewToken {
  const body: NewToken = { role: form.role };
  if (form.role === 'device' && form.device.trim()) body.device = form.device.trim();
  if (form.name.trim()) body.name = form.name.trim();
  return body;
}

/** Users by name (locale-aware: Hangul names sort as Koreans expect). */
export function sortUsers(users: readonly UserEntry[], locale: string): UserEntry[] {
  return [...users].sort((a, b) => a.name.localeCompare(b.name, locale));
}

/** Tokens newest first (then by id, for a stable order). */
export function sortTokens(tokens: readonly TokenEntry[]): TokenEntry[] {
  const time = (t: TokenEntry) => {
    const ms = Date.parse(t.created);
    return Number.isNaN(ms) ? 0 : ms;
  };
  return [...tokens].sort((a, b) => time(b) - time(a) || String(a.id).localeCompare(String(b.id)));
}

/** How a token is named in sentences: its name, else its device, else its id. */
export function tokenLabel(token: TokenEntry): string {
  return token.name || token.device || `#${token.id}`;
}
