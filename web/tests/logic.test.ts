import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisRange, chartGroups, episodes, grafanaUrl, limitLines, seriesPoints, tailInterval, timeStep } from '../src/logic/charts';
import { defaultFleetFilter, filterAndSort, fleetRows, scoreCondition, visibleWindow, worstMetric } from '../src/logic/fleet';
import { counterRate, parsePrometheus } from '../src/logic/prometheus';
import { parseRoute, routeHref } from '../src/logic/routes';
import { conflictSentence } from '../src/logic/conflict';
import { actionable, latest } from '../src/logic/alertActions';
import { alertSummary } from '../src/logic/summary';
import type { Alert } from '../src/api/types';
import { en } from '../src/i18n/en';
import { ko } from '../src/i18n/ko';
import { initialLang } from '../src/i18n/index';
import { formatNumber, formatRelative, formatValue } from '../src/i18n/format';
import { queryString, kindOfStatus } from '../src/api/client';
import { alert, catalog, device } from './fixtures';

const group = (id: string) => chartGroups.find((g) => g.id === id)!;

test('limit lines come from the catalog, per axis, shared limits merged', () => {
  const climate = limitLines(group('climate'), catalog);
  assert.deepEqual(
    climate.map((l) => `${l.axis} ${l.level} ${l.bound} ${l.value}${l.unit}`),
    ['y warning high 45°C', 'y critical high 60°C', 'y2 warning high 75%', 'y2 warning low 15%', 'y2 critical high 90%'],
  );
  const accel = limitLines(group('accel'), catalog);
  const warnHigh6 = accel.find((l) => l.value === 6 && l.level === 'warning');
  assert.deepEqual(warnHigh6?.metrics, ['accel_x', 'accel_y']);
  assert.equal(accel.length, 8, 'x/y share four lines, z has four of its own');
  const score = limitLines(group('score'), catalog);
  assert.deepEqual(score.map((l) => [l.level, l.value]), [['warning', 3], ['critical', 5]]);
});

test('the y range covers data and every limit line', () => {
  const lines = limitLines(group('vibration'), catalog);
  const range = axisRange([1, 2, null, 3], lines)!;
  assert.ok(range.min < 1 && range.max > 11.2);
  assert.equal(axisRange([null], []), null);
});

test('episodes clip to the range and run until cleared, resolved or now', () => {
  const from = Date.parse('2026-11-27T08:00:00Z');
  const to = from + 3600_000;
  const spans = episodes(
    [
      alert({ id: 1, raised_at: '2026-11-27T07:50:00Z', cleared_at: '2026-11-27T08:10:00Z' }),
      alert({ id: 2, raised_at: '2026-11-27T08:30:00Z', severity: 'critical' }),
      alert({ id: 3, raised_at: '2026-11-27T06:00:00Z', resolved_at: '2026-11-27T06:30:00Z' }),
    ],
    from,
    to,
    from + 40 * 60_000,
  );
  assert.deepEqual(spans.map((s) => [s.alertId, s.start - from, s.end - from]), [
    [1, 0, 10 * 60_000],
    [2, 30 * 60_000, 40 * 60_000],
  ]);
});

test('series points skip empty buckets', () => {
  const points = seriesPoints(
    {
      device_id: 'd',
      from: '',
      to: '',
      interval_seconds: 1,
      tier: 'raw',
      columns: ['temperature', 'humidity'],
      values: [[20, null], [null, 50], [21, 51]],
      times: ['2026-11-27T08:00:00Z', '2026-11-27T08:00:01Z', '2026-11-27T08:00:02Z'],
    },
    'temperature',
  );
  assert.deepEqual(points.map((p) => p.y), [20, 21]);
  assert.equal(tailInterval('15m'), 5000);
  assert.equal(timeStep(15 * 60_000), 300_000);
  assert.equal(timeStep(7 * 86_400_000), 86_400_000 * 1);
  assert.equal(timeStep(3600_000), 600_000);
  assert.equal(tailInterval('7d'), 2016000);
});

test('grafana URL carries device, range and kiosk', () => {
  assert.equal(
    grafanaUrl('http://grafana:3000/', 'moby-device', 'line 1/ä', '6h'),
    'http://grafana:3000/d/moby-device?orgId=1&var-device=line%201%2F%C3%A4&from=now-6h&to=now&kiosk',
  );
});

test('fleet: abnormal first, then stale, then by score and id; filters', () => {
  const devices = [
    device('a'),
    device('b', { status: 'stale' }),
    device('c', { anomaly_score: 3.2 }),
    device('d', { values: { temperature: 61 } }),
    device('e', { anomaly_score: 1 }),
  ];
  const rows = fleetRows(devices, catalog, null);
  assert.deepEqual(filterAndSort(rows, defaultFleetFilter).map((r) => r.device.device_id), ['d', 'c', 'b', 'e', 'a']);
  assert.deepEqual(
    filterAndSort(rows, { ...defaultFleetFilter, condition: 'abnormal', sort: 'id' }).map((r) => r.device.device_id),
    ['c', 'd'],
  );
  assert.deepEqual(filterAndSort(rows, { ...defaultFleetFilter, status: 'stale' }).map((r) => r.device.device_id), ['b']);
  assert.deepEqual(filterAndSort(rows, { ...defaultFleetFilter, text: 'E' }).map((r) => r.device.device_id), ['e']);
});

test('fleet: live open alerts override the polled alert', () => {
  const devices = [device('a', { alert: { id: 3, severity: 'warning', status: 'pending' } }), device('b')];
  const live = new Map([[9, alert({ id: 9, device_id: 'b', severity: 'critical' })]]);
  const rows = fleetRows(devices, catalog, live);
  assert.equal(rows[0].alert, null, 'resolved since the poll');
  assert.deepEqual(rows[1].alert, { id: 9, severity: 'critical', status: 'pending' });
  assert.equal(rows[1].condition, 'critical');
});

test('worst metric and score condition', () => {
  assert.equal(worstMetric({ temperature: 50, vibration: 2 }, catalog)?.metric, 'temperature');
  assert.equal(worstMetric({ temperature: 50, vibration: 2 }, catalog)?.severity, 'warning');
  assert.equal(worstMetric({ humidity: 10 }, catalog)?.severity, 'warning');
  assert.equal(scoreCondition(5, catalog), 'critical');
  assert.equal(scoreCondition(4.99, catalog), 'warning');
  assert.equal(scoreCondition(1, null), 'normal');
});

test('only the visible window of 1,000 rows is rendered', () => {
  assert.deepEqual(visibleWindow(1000, 0, 600, 30), { start: 0, end: 28 });
  assert.deepEqual(visibleWindow(1000, 15000, 600, 30, 0), { start: 500, end: 520 });
  assert.deepEqual(visibleWindow(10, 15000, 600, 30), { start: 10, end: 10 });
});

test('prometheus text: sums label sets, skips comments, reads exponents', () => {
  const values = parsePrometheus(
    [
      '# HELP moby_readings_stored_total readings',
      '# TYPE moby_readings_stored_total counter',
      'moby_readings_stored_total 1.5e3',
      'moby_messages_rejected_total{reason="bad json"} 2',
      'moby_messages_rejected_total{reason="a } b"} 3 1700000000',
      'moby_mqtt_connected 1',
      'garbage',
    ].join('\n'),
  );
  assert.equal(values.get('moby_readings_stored_total'), 1500);
  assert.equal(values.get('moby_messages_rejected_total'), 5);
  assert.equal(values.get('moby_mqtt_connected'), 1);
  assert.equal(values.has('garbage'), false);
  const rate = counterRate({ values: new Map([['x', 100]]), at: 0 }, { values: new Map([['x', 300]]), at: 4000 }, 'x');
  assert.equal(rate, 50);
  assert.equal(counterRate({ values: new Map([['x', 100]]), at: 0 }, { values: new Map([['x', 5]]), at: 1000 }, 'x'), null);
  assert.equal(counterRate(null, { values: new Map(), at: 0 }, 'x'), null);
});

test('routes round-trip device ids with any characters', () => {
  for (const route of [
    { page: 'fleet' } as const,
    { page: 'device', deviceId: 'press:7/ä b' } as const,
    { page: 'alerts', alertId: 42 } as const,
    { page: 'alerts', alertId: null } as const,
    { page: 'pipeline' } as const,
  ]) {
    assert.deepEqual(parseRoute(routeHref(route)), route);
  }
  assert.deepEqual(parseRoute('#/alerts/x'), { page: 'alerts', alertId: null });
  assert.deepEqual(parseRoute('#/nowhere'), { page: 'fleet' });
  assert.deepEqual(parseRoute('#/devices/%E0%A4%A'), { page: 'fleet' });
});

test('a 409 says who did what, with their note', () => {
  const relative = () => '2 min ago';
  const resolved = {
    alert: alert({ status: 'resolved', resolved_by: 'alice', resolved_at: '2026-11-27T08:00:00Z' }),
    history: [
      { action: 'raised', actor: 'moby', at: '2026-11-27T07:00:00Z', status: 'pending' as const },
      { action: 'resolved', actor: 'alice', at: '2026-11-27T08:00:00Z', note: 'bearing replaced', status: 'resolved' as const },
    ],
  };
  assert.equal(
    conflictSentence(resolved, 'alert 1 is already resolved', en, relative),
    'alice already resolved this alert 2 min ago. Their note: “bearing replaced”',
  );
  assert.equal(
    conflictSentence({ alert: resolved.alert }, 'x', en, () => 'now'),
    'alice already resolved this alert just now.',
    'Intl says "now"; after a verb it reads "just now"',
  );
  const acked = { alert: alert({ status: 'acknowledged', acknowledged_by: 'bob', acknowledged_at: '2026-11-27T08:00:00Z' }) };
  assert.equal(conflictSentence(acked, 'x', ko, relative), 'bob 님이 2 min ago 이 경보를 이미 확인했습니다.');
  assert.equal(conflictSentence(undefined, 'alert 1 is resolved', en, relative), 'That is no longer possible: alert 1 is resolved');
});

test('every English string has a Korean one of the same kind', () => {
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    assert.equal(typeof ko[key], typeof en[key], key);
    if (typeof en[key] === 'string') assert.ok((ko[key] as string).length > 0, key);
  }
  assert.equal(Object.keys(ko).length, Object.keys(en).length);
});

test('language: remembered, else English browsers get English, everyone else Korean', () => {
  assert.equal(initialLang('en', 'ko-KR'), 'en');
  assert.equal(initialLang(null, 'en-US'), 'en');
  assert.equal(initialLang(null, 'ko-KR'), 'ko');
  assert.equal(initialLang('fr', 'de-DE'), 'ko');
});

test('numbers and relative times follow the locale', () => {
  assert.equal(formatNumber(1234.567, 'en'), '1,235');
  assert.equal(formatNumber(71.34, 'en'), '71.3');
  assert.equal(formatValue(0.123, 'mm/s', 'en'), '0.12 mm/s');
  assert.equal(formatValue(undefined, '°C', 'en'), '—');
  const now = Date.parse('2026-11-27T08:03:00Z');
  assert.equal(formatRelative('2026-11-27T08:00:00Z', now, 'en'), '3 min. ago');
  assert.equal(formatRelative('2026-11-27T08:00:00Z', now, 'ko'), '3분 전');
  assert.equal(formatRelative('2026-11-27T08:02:58Z', now, 'en'), 'now');
  assert.equal(formatRelative('2026-11-25T08:00:00Z', now, 'en'), '2 days ago');
});

test('api: query strings and status kinds', () => {
  assert.equal(queryString({ status: ['pending', 'acknowledged'], device: 'a b', limit: 5, x: undefined, y: [] }), '?status=pending,acknowledged&device=a%20b&limit=5');
  assert.equal(queryString({}), '');
  assert.equal(kindOfStatus(409), 'conflict');
  assert.equal(kindOfStatus(503), 'unavailable');
  assert.equal(kindOfStatus(422), 'badRequest');
  assert.equal(kindOfStatus(500), 'server');
});

test('alert summaries are written in the chosen language from the structured fields', () => {
  const alert = {
    id: 7, device_id: 'press-1', rule: 'anomaly', severity: 'critical', status: 'pending', score: 6.74,
    peak_score: 6.8, reading_count: 3, raised_at: '2026-11-29T08:31:14Z', last_seen_at: '2026-11-29T08:31:20Z',
    updated_at: '2026-11-29T08:31:20Z', summary: 'server text',
    contributors: [
      { metric: 'temperature', value: 70.84, unit: '°C', nominal: 25, z: 5.7, limit: 60, severity: 'critical' },
      { metric: 'sound', value: 49.9, unit: 'dB', nominal: 65, z: -1.3 },
    ],
  } as const;
  const english = alertSummary(alert as unknown as Alert, 'en', en);
  assert.match(english, /^Critical anomaly on press-1 since /);
  assert.match(english, /temperature 70\.8 °C \(45\.8 °C above nominal 25, past the critical limit 60\); Sound 49\.9 dB \(15\.1 dB below nominal 65\)/i);
  assert.match(english, /Anomaly score 6\.7, peak 6\.8 over 3 readings\.$/);
  const korean = alertSummary(alert as unknown as Alert, 'ko', ko);
  assert.match(korean, /^press-1 위험 이상 \(/);
  assert.match(korean, /온도 70\.8 °C \(기준값 25보다 45\.8 °C 높음, 위험 한계 60 초과\); 소음 49\.9 dB \(기준값 65보다 15\.1 dB 낮음\)/);
  assert.match(korean, /이상 점수 6\.7, 최고 6\.8 \(판독 3회\)\.$/);
  assert.ok(!/anomaly|nominal|limit|reading/i.test(korean), korean);
});

test('acknowledge takes pending alerts only; resolve any not yet resolved', () => {
  const chosen = [
    { id: 1, status: 'pending' as const },
    { id: 2, status: 'acknowledged' as const },
    { id: 3, status: 'resolved' as const },
  ];
  assert.deepEqual(actionable(chosen, 'acknowledge').map((a) => a.id), [1]);
  assert.deepEqual(actionable(chosen, 'resolve').map((a) => a.id), [1, 2]);
  assert.deepEqual(actionable([chosen[2]], 'resolve'), [], 'a resolved alert: nothing to send');
  assert.ok(en.nothingToDo('Acknowledge').startsWith('Acknowledge: nothing to do'));
  assert.ok(ko.nothingToDo('확인').startsWith('확인:'));
});

test('a view shows the later of the stream\'s state and its own action\'s answer', () => {
  const streamed = alert({ id: 7, status: 'pending', updated_at: '2026-11-27T08:00:03Z' });
  const answered = alert({ id: 7, status: 'acknowledged', updated_at: '2026-11-27T08:00:09.5Z' });
  assert.equal(latest(streamed, answered).status, 'acknowledged', 'the stream has not caught up yet');
  assert.equal(latest({ ...streamed, updated_at: '2026-11-27T08:01:00Z' }, answered).status, 'pending', 'the stream moved on');
  assert.equal(latest(streamed, undefined), streamed);
  assert.equal(latest(streamed, alert({ id: 8, updated_at: '2026-11-28T00:00:00Z' })), streamed, 'another alert');
});
