// The device edit form: its fields from a device, the PUT body from its fields, and the server's
// 422 field errors sorted to the fields they belong to and said in the operator's language (the
// server's messages are English; the shapes it uses are recognised, anything else is quoted).
import type { Device, DeviceUpdate } from '../api/types';
import type { Messages } from '../i18n/en';
import { DEFAULT_PROFILE } from './profiles';

export interface DeviceForm {
  name: string;
  location: string;
  line: string;
  profile: string;
  /** One entry per allowed label key ("" for none). */
  labels: Record<string, string>;
}

/** The form for `device` (blank for a device the server does not know). */
export function formFromDevice(device: Device | null, labelKeys: readonly string[]): DeviceForm {
  const labels: Record<string, string> = {};
  for (const key of labelKeys) labels[key] = device?.labels?.[key] ?? '';
  return {
    name: device?.name ?? '',
    location: device?.location ?? '',
    line: device?.line ?? '',
    profile: device?.profile || DEFAULT_PROFILE,
    labels,
  };
}

const blankToNull = (text: string): string | null => (text.trim() === '' ? null : text.trim());

/**
 * The whole entry, as PUT wants it: blank fields are sent as null (cleared), labels only when
 * given. Label keys the catalog no longer allows are dropped (the server would refuse them).
 */
export function formBody(form: DeviceForm, labelKeys: readonly string[]): DeviceUpdate {
  const labels: Record<string, string> = {};
  for (const key of labelKeys) {
    const value = form.labels[key]?.trim();
    if (value) labels[key] = value;
  }
  return {
    name: blankToNull(form.name),
    location: blankToNull(form.location),
    line: blankToNull(form.line),
    profile: form.profile || DEFAULT_PROFILE,
    labels,
  };
}

/** True when saving would change nothing. */
export function formUnchanged(form: DeviceForm, device: Device | null, labelKeys: readonly string[]): boolean {
  if (!device) return false;
  const a = formBody(form, labelKeys);
  const b = formBody(formFromDevice(device, labelKeys), labelKeys);
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface FieldError {
  field: string;
  message: string;
}

/** The form's own field names: name, location, line, profile and labels.<key>. */
export function formFields(labelKeys: readonly string[]): string[] {
  return ['name', 'location', 'line', 'profile', ...labelKeys.map((k) => `labels.${k}`)];
}

/** Field errors by form field; those about no field of the form (an unknown field, the id) apart. */
export function sortFieldErrors(
  errors: readonly FieldError[],
  labelKeys: readonly string[],
): { byField: Record<string, FieldError[]>; other: FieldError[] } {
  const fields = new Set(formFields(labelKeys));
  const byField: Record<string, FieldError[]> = {};
  const other: FieldError[] = [];
  for (const error of errors) {
    if (fields.has(error.field)) (byField[error.field] ??= []).push(error);
    else other.push(error);
  }
  return { byField, other };
}

/** A field error in the operator's language. */
export function fieldErrorText(error: FieldError, t: Messages): string {
  const m = error.message;
  let match: RegExpMatchArray | null;
  if (error.field === 'profile' && /not a profile/.test(m)) return t.fieldError_profile;
  if (/not an allowed label key/.test(m)) return t.fieldError_labelKey;
  if ((match = m.match(/limit of (\d+) distinct/))) return t.fieldError_tagLimit(match[1]);
  if ((match = m.match(/limit of (\d+) devices/))) return t.fieldError_deviceLimit(match[1]);
  if ((match = m.match(/(?:at most|longer than) (\d+) bytes/))) return t.fieldError_tooLong(match[1]);
  if (/must contain only|must start with|must not be empty/.test(m)) {
    // The character at fault: "a space (U+0020)", "'/' (U+002F)" or "U+200B".
    const found = m.match(/; found (.+)$/)?.[1] ?? null;
    const space = found?.match(/^a space \((U\+[0-9A-F]+)\)$/);
    return t.fieldError_alphabet(space ? t.fieldError_space(space[1]) : found);
  }
  if (/NFC/.test(m)) return t.fieldError_nfc;
  if (/control characters/.test(m)) return t.fieldError_control;
  if (/unknown field/.test(m)) return t.fieldError_unknownField;
  return t.fieldError_other(m);
}
