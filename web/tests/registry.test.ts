// Device registry and profiles in the console: fleet filters, facets and grouping by location
// and line; the limits of a device's profile; the edit form's body and field errors; summaries
// that name the profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANY,
  NONE,
  defaultFleetFilter,
  filterAndSort,
  fleetFacets,
  fleetRows,
  groupRows,
  type FleetItem,
} from '../src/logic/fleet';
import { chartGroups, limitLines } from '../src/logic/charts';
import { DEFAULT_PROFILE, hasProfile, profileCatalog, profileChanges, profileNames } from '../src/logic/profiles';
import { fieldErrorText, formBody, formFromDevice, formUnchanged, sortFieldErrors } from '../src/logic/deviceForm';
import { alertSummary } from '../src/logic/summary';
import { en } from '../src/i18n/en';
import { ko } from '../src/i18n/ko';
import { alert, catalog, device, profiled } from './fixtures';

const ids = (rows: { device: { device_id: string } }[]) => rows.map((r) => r.device.device_id);

const fleet = [
  device('a1', { location: 'plant-a', line: 'line-1', name: 'Press 7' }),
  device('a2', { location: 'plant-a', line: 'line-10', profile: 'cold_room', values: { temperature: 5, humidity: 60 } }),
  device('a3', { location: 'plant-a', line: 'line-2', anomaly_score: 4 }),
  device('a4', { location: 'plant-a' }),
  device('b1', { location: 'plant-b', line: 'line-1', status: 'stale' }),
  device('n1'),
];

test('fleet filters: location, line and profile exact; "not set"; text matches the name too', () => {
  const rows = fleetRows(fleet, profiled, null);
  const shown = (patch: Partial<typeof defaultFleetFilter>) => ids(filterAndSort(rows, { ...defaultFleetFilter, sort: 'id', ...patch }));
  assert.deepEqual(shown({ location: 'plant-a' }), ['a1', 'a2', 'a3', 'a4']);
  assert.deepEqual(shown({ location: 'plant-a', line: 'line-1' }), ['a1']);
  assert.deepEqual(shown({ line: 'line-1' }), ['a1', 'b1']);
  assert.deepEqual(shown({ location: NONE }), ['n1']);
  assert.deepEqual(shown({ location: 'plant-a', line: NONE }), ['a4']);
  assert.deepEqual(shown({ profile: 'cold_room' }), ['a2']);
  assert.deepEqual(shown({ profile: DEFAULT_PROFILE, location: 'plant-b' }), ['b1']);
  assert.deepEqual(shown({ text: 'press' }), ['a1']);
  assert.deepEqual(shown({ location: 'plant-a', condition: 'abnormal' }), ['a3']);
  assert.deepEqual(shown({ location: 'plant-' }), [], 'exact match, not a prefix');
});

test('fleet facets: values of the devices present in natural order, lines of the chosen location', () => {
  const all = fleetFacets(fleet, defaultFleetFilter);
  assert.deepEqual(all.locations, { values: ['plant-a', 'plant-b'], unset: true });
  assert.deepEqual(all.lines, { values: ['line-1', 'line-2', 'line-10'], unset: true });
  assert.deepEqual(all.profiles, ['cold_room', 'default']);
  const inB = fleetFacets(fleet, { ...defaultFleetFilter, location: 'plant-b' });
  assert.deepEqual(inB.lines, { values: ['line-1'], unset: false });
  // A chosen value whose devices are gone stays in its select.
  const gone = fleetFacets(fleet, { ...defaultFleetFilter, location: 'plant-z', line: 'line-9', profile: 'press' });
  assert.ok(gone.locations.values.includes('plant-z'));
  assert.deepEqual(gone.lines, { values: ['line-9'], unset: false });
  assert.ok(gone.profiles.includes('press'));
});

const describe = (items: FleetItem[]) =>
  items.map((i) => (i.kind === 'group' ? `${'#'.repeat(i.level)}${i.key}(${i.count})` : i.row.device.device_id));

test('grouping: by location, by line, by location then line; none-set last; counts per group', () => {
  const rows = filterAndSort(fleetRows(fleet, profiled, null), { ...defaultFleetFilter, sort: 'id' });
  assert.deepEqual(describe(groupRows(rows, 'none')), ['a1', 'a2', 'a3', 'a4', 'b1', 'n1']);
  assert.deepEqual(describe(groupRows(rows, 'location')), [
    '#location:plant-a(4)', 'a1', 'a2', 'a3', 'a4',
    '#location:plant-b(1)', 'b1',
    '#location:(1)', 'n1',
  ]);
  assert.deepEqual(describe(groupRows(rows, 'line')), [
    '#line:line-1(2)', 'a1', 'b1',
    '#line:line-2(1)', 'a3',
    '#line:line-10(1)', 'a2',
    '#line:(2)', 'a4', 'n1',
  ]);
  assert.deepEqual(describe(groupRows(rows, 'locationLine')), [
    '#location:plant-a(4)',
    '##location:plant-a/line:line-1(1)', 'a1',
    '##location:plant-a/line:line-2(1)', 'a3',
    '##location:plant-a/line:line-10(1)', 'a2',
    '##location:plant-a/line:(1)', 'a4',
    '#location:plant-b(1)',
    '##location:plant-b/line:line-1(1)', 'b1',
    '#location:(1)',
    '##location:/line:(1)', 'n1',
  ]);
  const plantA = groupRows(rows, 'location')[0];
  assert.ok(plantA.kind === 'group');
  assert.deepEqual([plantA.value, plantA.warning, plantA.critical, plantA.stale], ['plant-a', 1, 0, 0]);
  const plantB = groupRows(rows, 'location').find((i) => i.kind === 'group' && i.value === 'plant-b');
  assert.ok(plantB?.kind === 'group' && plantB.stale === 1);
});

test('grouping keeps the chosen sort inside each group; collapsed groups keep their header only', () => {
  const rows = filterAndSort(fleetRows(fleet, profiled, null), defaultFleetFilter);
  const grouped = groupRows(rows, 'location');
  assert.deepEqual(describe(grouped).slice(0, 2), ['#location:plant-a(4)', 'a3'], 'abnormal first within the group');
  const collapsed = groupRows(rows, 'locationLine', new Set(['location:plant-a', 'location:plant-b/line:line-1']));
  assert.deepEqual(describe(collapsed), [
    '#location:plant-a(4)',
    '#location:plant-b(1)',
    '##location:plant-b/line:line-1(1)',
    '#location:(1)',
    '##location:/line:(1)', 'n1',
  ]);
  assert.ok(collapsed[0].kind === 'group' && collapsed[0].collapsed);
});

test('grouping 1,000 devices stays fast', () => {
  const many = Array.from({ length: 1000 }, (_, i) =>
    device(`s${i}`, { location: `plant-${i % 7}`, line: `line-${i % 13}`, anomaly_score: (i % 50) / 10 }),
  );
  const started = Date.now();
  for (let n = 0; n < 20; n++) {
    const rows = filterAndSort(fleetRows(many, profiled, null), { ...defaultFleetFilter, location: ANY });
    groupRows(rows, 'locationLine');
    fleetFacets(many, defaultFleetFilter);
  }
  const each = (Date.now() - started) / 20;
  assert.ok(each < 50, `rows, sort, group and facets of 1,000 devices took ${each} ms`);
  const items = groupRows(filterAndSort(fleetRows(many, profiled, null), defaultFleetFilter), 'locationLine');
  assert.equal(items.filter((i) => i.kind === 'device').length, 1000);
  assert.equal(items.filter((i) => i.kind === 'group' && i.level === 1).length, 7);
});

test('profiles: a device is judged by its profile, unknown or missing profiles by the default', () => {
  assert.deepEqual(profileNames(profiled), ['default', 'cold_room', 'strict']);
  assert.deepEqual(profileNames(catalog), ['default'], 'a server without profiles');
  assert.equal(profileCatalog(profiled, 'default'), profiled);
  assert.equal(profileCatalog(profiled, 'nonexistent'), profiled);
  assert.equal(profileCatalog(catalog, 'cold_room'), catalog);
  const cold = profileCatalog(profiled, 'cold_room');
  assert.equal(cold, profileCatalog(profiled, 'cold_room'), 'the same object each time');
  assert.equal(cold.metrics.find((m) => m.metric === 'temperature')?.critical.high, 12);
  assert.ok(hasProfile(profiled, 'cold_room') && hasProfile(catalog, 'default') && !hasProfile(profiled, 'press'));

  // 10 °C is normal by default, past cold_room's warning (8); a score of 2.5 is past strict's.
  const rows = fleetRows(
    [
      device('d', { values: { temperature: 10 } }),
      device('c', { profile: 'cold_room', values: { temperature: 10 } }),
      device('s', { profile: 'strict', anomaly_score: 2.5 }),
    ],
    profiled,
    null,
  );
  assert.deepEqual(rows.map((r) => r.condition), ['normal', 'warning', 'warning']);
  assert.equal(rows[1].worst?.metric, 'temperature');
  assert.equal(rows[2].scoreSeverity, 'warning');
});

test("the device view's threshold lines come from its profile", () => {
  const climate = chartGroups.find((g) => g.id === 'climate')!;
  const line = (profile: string) =>
    limitLines(climate, profileCatalog(profiled, profile)).map((l) => `${l.axis} ${l.level} ${l.bound} ${l.value}`);
  assert.deepEqual(line('default'), ['y warning high 45', 'y critical high 60', 'y2 warning high 75', 'y2 warning low 15', 'y2 critical high 90']);
  assert.deepEqual(line('cold_room'), ['y warning high 8', 'y critical high 12', 'y2 warning high 85', 'y2 warning low 30', 'y2 critical high 95']);
  const score = chartGroups.find((g) => g.id === 'score')!;
  assert.deepEqual(limitLines(score, profileCatalog(profiled, 'strict')).map((l) => l.value), [2, 3]);
});

test('profile changes: the limits that differ from the default', () => {
  assert.deepEqual(profileChanges(profiled, 'default'), []);
  const cold = profileChanges(profiled, 'cold_room').map((c) => `${c.metric} ${c.level} ${c.bound} ${c.was}→${c.value}`);
  assert.deepEqual(cold, [
    'temperature warning high 45→8',
    'temperature critical high 60→12',
    'humidity warning high 75→85',
    'humidity warning low 15→30',
    'humidity critical high 90→95',
  ]);
  assert.deepEqual(profileChanges(profiled, 'strict').map((c) => `${c.metric} ${c.level} ${c.value}`), [
    'anomaly_score warning 2',
    'anomaly_score critical 3',
  ]);
});

test('the edit form: fields from the device, blanks cleared as null, only allowed labels sent', () => {
  const keys = ['cell', 'vendor'];
  const d = device('x', { name: 'Press 7', location: 'plant-a', profile: 'cold_room', labels: { cell: 'A3', old: 'gone' } });
  const form = formFromDevice(d, keys);
  assert.deepEqual(form, { name: 'Press 7', location: 'plant-a', line: '', profile: 'cold_room', labels: { cell: 'A3', vendor: '' } });
  assert.deepEqual(formBody({ ...form, name: '  ', line: ' line-2 ' }, keys), {
    name: null,
    location: 'plant-a',
    line: 'line-2',
    profile: 'cold_room',
    labels: { cell: 'A3' },
  });
  assert.deepEqual(formFromDevice(null, keys), { name: '', location: '', line: '', profile: 'default', labels: { cell: '', vendor: '' } });
  assert.equal(formBody({ ...formFromDevice(null, []), profile: '' }, []).profile, 'default');
  assert.ok(formUnchanged(form, d, keys));
  assert.ok(!formUnchanged({ ...form, profile: 'default' }, d, keys));
  assert.ok(!formUnchanged(form, null, keys), 'registering always saves');
});

test("422 field errors go next to their fields, in the operator's language", () => {
  const errors = [
    { field: 'location', message: 'must contain only letters and digits of any script, and - _ . : (not first); found a space (U+0020)' },
    { field: 'line', message: 'at most 64 bytes, got 70' },
    { field: 'profile', message: "'frozen' is not a profile of the catalog; known: cold_room, default, press" },
    { field: 'labels.color', message: 'not an allowed label key; allowed: cell, vendor' },
    { field: 'labels.cell', message: 'the fleet already has its limit of 1000 distinct cell values (MOBY_MAX_TAG_VALUES)' },
    { field: 'colour', message: 'unknown field; expected labels, line, location, name, profile' },
  ];
  const sorted = sortFieldErrors(errors, ['cell', 'vendor']);
  assert.deepEqual(Object.keys(sorted.byField).sort(), ['labels.cell', 'line', 'location', 'profile']);
  assert.deepEqual(sorted.other.map((e) => e.field), ['labels.color', 'colour']);

  const said = (lang: typeof en) => errors.map((e) => fieldErrorText(e, lang));
  assert.deepEqual(said(en), [
    'Use letters and digits (any script) and - _ . :, starting with a letter or digit (found a space, U+0020).',
    'Too long: at most 64 bytes (UTF-8).',
    'Not a profile of the catalog.',
    'Not a label key the catalog allows.',
    'The fleet already has 1000 different values here, the most allowed (MOBY_MAX_TAG_VALUES): use an existing one.',
    'The server does not know this field.',
  ]);
  const korean = said(ko);
  assert.match(korean[0], /^문자와 숫자.*\(입력된 문자: 공백 U\+0020\)\.$/);
  assert.equal(korean[1], '너무 깁니다: 최대 64바이트(UTF-8).');
  assert.equal(korean[2], '카탈로그에 없는 프로필입니다.');
  for (const text of korean) assert.ok(!/\b(not|must|limit|field|profile)\b/i.test(text), text);
  // A message the console does not know is quoted after a sentence in the chosen language.
  assert.equal(fieldErrorText({ field: 'name', message: 'something new' }, ko), '받을 수 없는 값입니다: something new');
  assert.equal(
    fieldErrorText({ field: 'line', message: "must contain only letters and digits of any script, and - _ . : (not first); found '/' (U+002F)" }, en),
    "Use letters and digits (any script) and - _ . :, starting with a letter or digit (found '/' (U+002F)).",
  );
  assert.equal(fieldErrorText({ field: 'line', message: 'must start with a letter or digit' }, ko).startsWith('문자와 숫자'), true);
});

test('alert summaries name a profile other than the default, in both languages', () => {
  const base = {
    device_id: 'cold_room_01',
    severity: 'critical' as const,
    contributors: [{ metric: 'temperature', value: 20, unit: '°C', nominal: 4, z: 8, limit: 12, severity: 'critical' as const }],
  };
  const english = alertSummary(alert({ ...base, profile: 'cold_room' }), 'en', en);
  assert.match(english, /^Critical anomaly on cold_room_01 \(profile cold_room\) since /);
  assert.match(english, /Temperature 20 °C \(16 °C above nominal 4, past the critical limit 12\)/);
  const korean = alertSummary(alert({ ...base, profile: 'cold_room' }), 'ko', ko);
  assert.match(korean, /^cold_room_01 \(프로필 cold_room\) 위험 이상 \(/);
  assert.match(alertSummary(alert({ ...base, profile: 'default' }), 'en', en), /^Critical anomaly on cold_room_01 since /);
  assert.match(alertSummary(alert(base), 'ko', ko), /^cold_room_01 위험 이상 \(/, 'alerts from before profiles');
});
