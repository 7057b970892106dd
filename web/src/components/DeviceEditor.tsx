// Edit (or register) a device's registry entry: display name, location, line, profile (from the
// catalog, with how its limits differ from the default) and the catalog's allowed labels. Saves
// with PUT; a 422's field errors are said next to their fields in the operator's language.
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api/client';
import type { Catalog, Device } from '../api/types';
import { useI18n } from '../i18n';
import { useLoad } from '../hooks';
import {
  fieldErrorText,
  formBody,
  formFields,
  formFromDevice,
  formUnchanged,
  sortFieldErrors,
  type DeviceForm,
  type FieldError,
} from '../logic/deviceForm';
import { defaultFleetFilter, fleetFacets } from '../logic/fleet';
import { DEFAULT_PROFILE, profileChanges, profileNames } from '../logic/profiles';
import { metricName } from '../logic/summary';
import { ErrorNotice } from './Feedback';

interface Props {
  deviceId: string;
  /** null: the server does not know the device; saving registers it. */
  device: Device | null;
  catalog: Catalog;
  onSaved(device: Device): void;
  onCancel(): void;
}

export function DeviceEditor({ deviceId, device, catalog, onSaved, onCancel }: Props) {
  const { t, value: formatValue } = useI18n();
  const labelKeys = catalog.device_labels ?? [];
  const [form, setForm] = useState<DeviceForm>(() => formFromDevice(device, labelKeys));
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const prefix = useId();
  const idOf = (field: string) => `${prefix}-${field.replace(/\W/g, '_')}`;

  // Suggestions: the locations and lines the fleet already uses (one spelling per site).
  const fleet = useLoad((signal) => api.allDevices(signal), 'editor-suggestions');
  const facets = useMemo(() => fleetFacets(fleet.data?.devices ?? [], defaultFleetFilter), [fleet.data]);

  const profiles = profileNames(catalog);
  if (!profiles.includes(form.profile)) profiles.push(form.profile);
  const changes = useMemo(() => profileChanges(catalog, form.profile), [catalog, form.profile]);
  const sorted = sortFieldErrors(errors, labelKeys);
  const unchanged = formUnchanged(form, device, labelKeys);

  // After a 422, the first field the server refused gets the focus.
  useEffect(() => {
    const first = formFields(labelKeys).find((f) => sorted.byField[f]);
    if (first) document.getElementById(idOf(first))?.focus();
    // Only when a new set of errors arrives (not on every keystroke).
  }, [errors]);

  const change = (field: string, patch: Partial<DeviceForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setErrors((list) => (list.some((e) => e.field === field) ? list.filter((e) => e.field !== field) : list));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors([]);
    setFailure(null);
    try {
      const saved = await api.updateDevice(deviceId, formBody(form, labelKeys));
      setBusy(false);
      onSaved(saved);
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiError && error.status === 422 && error.fields.length > 0) setErrors(error.fields);
      else setFailure(error);
    }
  }

  const field = (name: string, label: string, input: (props: InputProps) => ReactNode, hint?: string) => {
    const id = idOf(name);
    const problems = sorted.byField[name] ?? [];
    const described = [hint ? `${id}-hint` : '', problems.length ? `${id}-error` : ''].filter(Boolean).join(' ');
    return (
      <div className={`field ${problems.length ? 'field-invalid' : ''}`} data-field={name}>
        <label htmlFor={id}>{label}</label>
        {input({ id, 'aria-invalid': problems.length > 0 || undefined, 'aria-describedby': described || undefined })}
        {hint && (
          <p className="hint" id={`${id}-hint`}>
            {hint}
          </p>
        )}
        {problems.length > 0 && (
          <p className="field-error" id={`${id}-error`} data-testid="field-error" data-field={name}>
            {problems.map((p) => (
              <span key={p.message} title={p.message}>
                {fieldErrorText(p, t)}{' '}
              </span>
            ))}
          </p>
        )}
      </div>
    );
  };

  const limitText = (v: number | null, unit: string) => (v === null ? t.limitNone : formatValue(v, unit));
  const titleId = `${prefix}-title`;

  return (
    <form className="device-form" onSubmit={submit} aria-labelledby={titleId} data-testid="device-form" noValidate>
      <h2 id={titleId}>{device ? t.formTitleEdit(deviceId) : t.formTitleRegister(deviceId)}</h2>
      {errors.length > 0 && (
        <div className="notice notice-error" role="alert" data-testid="form-invalid">
          {t.formInvalid}
          {sorted.other.length > 0 && (
            <ul>
              {sorted.other.map((e) => (
                <li key={`${e.field}:${e.message}`} data-testid="field-error" data-field={e.field} title={e.message}>
                  {e.field}: {fieldErrorText(e, t)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {failure != null && <ErrorNotice error={failure} />}
      <div className="form-grid">
        {field('name', t.formName, (p) => (
          <input {...p} value={form.name} maxLength={128} autoComplete="off" onChange={(e) => change('name', { name: e.target.value })} data-testid="form-name" />
        ))}
        {field(
          'location',
          t.formLocation,
          (p) => (
            <input {...p} value={form.location} list={`${prefix}-locations`} autoComplete="off" onChange={(e) => change('location', { location: e.target.value })} data-testid="form-location" />
          ),
          t.formTagHint,
        )}
        {field(
          'line',
          t.formLine,
          (p) => (
            <input {...p} value={form.line} list={`${prefix}-lines`} autoComplete="off" onChange={(e) => change('line', { line: e.target.value })} data-testid="form-line" />
          ),
          t.formTagHint,
        )}
        {field('profile', t.formProfile, (p) => (
          <select {...p} value={form.profile} onChange={(e) => change('profile', { profile: e.target.value })} data-testid="form-profile">
            {profiles.map((name) => (
              <option key={name} value={name}>
                {name === DEFAULT_PROFILE ? t.profileDefault : name}
              </option>
            ))}
          </select>
        ))}
      </div>
      <div className="profile-changes muted" data-testid="form-profile-changes" aria-live="polite">
        {changes.length === 0 ? (
          t.formProfileSame
        ) : (
          <>
            {t.formProfileChanges}
            <ul>
              {changes.map((c) => (
                <li key={`${c.metric}-${c.level}-${c.bound}`}>
                  {t.limitChange(
                    metricName(c.metric, t),
                    t[`severity_${c.level}`],
                    c.bound === 'high' ? t.boundHigh : t.boundLow,
                    limitText(c.value, c.unit),
                    limitText(c.was, c.unit),
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      {labelKeys.length > 0 && (
        <fieldset className="labels">
          <legend>{t.formLabels}</legend>
          <div className="form-grid">
            {labelKeys.map((key) =>
              field(`labels.${key}`, key, (p) => (
                <input
                  {...p}
                  value={form.labels[key] ?? ''}
                  autoComplete="off"
                  onChange={(e) => change(`labels.${key}`, { labels: { ...form.labels, [key]: e.target.value } })}
                  data-testid={`form-label-${key}`}
                />
              )),
            )}
          </div>
        </fieldset>
      )}
      <datalist id={`${prefix}-locations`}>
        {facets.locations.values.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <datalist id={`${prefix}-lines`}>
        {facets.lines.values.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || unchanged} data-testid="form-save">
          {busy ? t.formSaving : t.formSave}
        </button>
        <button type="button" onClick={onCancel} disabled={busy} data-testid="form-cancel">
          {t.formCancel}
        </button>
      </div>
    </form>
  );
}

interface InputProps {
  id: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}
