// Errors as plain sentences in the operator's language.
import type { Messages } from '../i18n/en';
import { ApiError } from './client';
import { conflictSentence } from '../logic/conflict';
import { waitParts } from '../logic/session';

/** "45 s", "3 min" (a Retry-After wait, in the operator's language). */
export function waitText(seconds: number, t: Messages): string {
  const { value, unit } = waitParts(seconds);
  return unit === 'seconds' ? t.waitSeconds(String(value)) : t.waitMinutes(String(value));
}

export function errorSentence(error: unknown, t: Messages, relative: (iso: string) => string): string {
  if (!(error instanceof ApiError)) return t.error_server(error instanceof Error ? error.message : String(error));
  const fields = error.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  const detail = fields ? `${error.detail} (${fields})` : error.detail;
  switch (error.kind) {
    case 'network':
      return t.error_network;
    case 'badRequest':
      return t.error_badRequest(detail);
    case 'unauthorized':
      return t.error_unauthorized;
    case 'forbidden':
      return t.error_forbidden(detail);
    case 'tooManyRequests':
      return error.retryAfter === null ? t.error_tooMany(detail) : t.error_tooManyWait(detail, waitText(error.retryAfter, t));
    case 'notFound':
      return t.error_notFound(detail);
    case 'conflict':
      return conflictSentence(error.current, detail, t, relative);
    case 'unavailable':
      return t.error_unavailable(detail);
    case 'server':
      return t.error_server(detail);
    case 'invalidAnswer':
      return t.error_invalidAnswer;
  }
}
