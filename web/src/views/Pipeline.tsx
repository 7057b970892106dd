// Pipeline health as plain tiles: broker, InfluxDB, spool, ingest and rejection rates, dead
// letters, devices and the alert stream, from /health/ready and /metrics (polled).
import { useRef, type ReactNode } from 'react';
import { api } from '../api/client';
import { useI18n } from '../i18n';
import { useLoad, useNow } from '../hooks';
import { counterRate, parsePrometheus, type MetricValues } from '../logic/prometheus';
import { ErrorNotice, Skeleton } from '../components/Feedback';

type Scrape = { values: MetricValues; at: number };

function Tile({ title, state, children, testId }: { title: string; state: 'ok' | 'bad' | 'neutral'; children: ReactNode; testId: string }) {
  return (
    <section className={`tile tile-${state}`} data-testid={testId} data-state={state}>
      <h2>
        {state === 'bad' && <span aria-hidden="true">✖ </span>}
        {title}
      </h2>
      {children}
    </section>
  );
}

function UpdatedAt({ at }: { at: number }) {
  const { t, relative } = useI18n();
  const now = useNow(5_000);
  return <>{t.updatedAt(relative(at, Math.max(now, at)))}</>;
}

export function PipelineView() {
  const { t, num } = useI18n();
  const previous = useRef<Scrape | null>(null);
  const data = useLoad(
    async () => {
      const [ready, text] = await Promise.all([api.readiness(), api.metricsText()]);
      const scrape: Scrape = { values: parsePrometheus(text), at: Date.now() };
      const before = previous.current;
      previous.current = scrape;
      return { ready, scrape, before };
    },
    'pipeline',
    5_000,
  );
  if (data.error != null && !data.data) return <ErrorNotice error={data.error} onRetry={data.reload} />;
  if (!data.data) return <Skeleton rows={6} />;
  const { ready, scrape, before } = data.data;
  const metric = (name: string) => scrape.values.get(name) ?? 0;
  const rate = (name: string) => {
    const r = counterRate(before, scrape, name);
    return r === null ? t.rateWaiting : t.perSecond(num(r, 1));
  };
  const influxBad = !ready.influxdb.reachable || ready.influxdb.refusing || ready.influxdb.last_error !== undefined;
  return (
    <section className="page pipeline" aria-labelledby="pipeline-title">
      <h1 id="pipeline-title">
        {t.pipelineTitle}{' '}
        <span className={`badge ${ready.status === 'ready' ? 'ok' : 'sev-critical'}`} data-testid="pipeline-status" data-status={ready.status}>
          {ready.status === 'ready' ? t.pipelineReady : `✖ ${t.pipelineDegraded}`}
        </span>
      </h1>
      {data.error != null && <ErrorNotice error={data.error} onRetry={data.reload} />}
      {data.at && (
        <p className="muted">
          <UpdatedAt at={data.at} />
        </p>
      )}
      <div className="tiles">
        <Tile title={t.tileBroker} state={ready.mqtt.connected && ready.mqtt.subscribed ? 'ok' : 'bad'} testId="tile-broker">
          <p>{ready.mqtt.connected ? t.connected : t.disconnected}</p>
          <p>{ready.mqtt.subscribed ? t.subscribed : t.notSubscribed}</p>
        </Tile>
        <Tile title={t.tileInflux} state={influxBad ? 'bad' : 'ok'} testId="tile-influxdb">
          <p>{ready.influxdb.reachable ? t.reachable : t.unreachable}</p>
          <p>{ready.influxdb.refusing ? t.refusing : t.notRefusing}</p>
          <p>{t.refusedRecent(num(ready.influxdb.refused_lines_recent))}</p>
          {ready.influxdb.last_error && <p className="small">{t.lastError(ready.influxdb.last_error)}</p>}
          {ready.influxdb.last_refusal && <p className="small">{t.lastError(ready.influxdb.last_refusal)}</p>}
        </Tile>
        <Tile title={t.tileSpool} state={ready.spool.readings > 0 ? 'bad' : 'neutral'} testId="tile-spool">
          <p className="big">{t.spoolReadings(num(ready.spool.readings))}</p>
          <p>
            {t.spoolBatches(num(ready.spool.batches))} · {t.spoolBytes(num(ready.spool.bytes))}
          </p>
          <p>{t.pendingReadings(num(ready.pending_readings))}</p>
        </Tile>
        <Tile title={t.tileIngest} state="neutral" testId="tile-ingest">
          <p className="big">{rate('moby_readings_stored_total')}</p>
          <p>{t.total(num(metric('moby_readings_stored_total')))}</p>
        </Tile>
        <Tile title={t.tileRejected} state={metric('moby_messages_rejected_total') > 0 ? 'bad' : 'neutral'} testId="tile-rejected">
          <p className="big">{rate('moby_messages_rejected_total')}</p>
          <p>{t.total(num(metric('moby_messages_rejected_total')))}</p>
        </Tile>
        <Tile title={t.tileDeadLetters} state={metric('moby_dead_letters_failed_total') > 0 ? 'bad' : 'neutral'} testId="tile-dead-letters">
          <p className="big">{t.total(num(metric('moby_dead_letters_published_total')))}</p>
          <p>{rate('moby_dead_letters_published_total')}</p>
        </Tile>
        <Tile title={t.tileDevices} state="neutral" testId="tile-devices">
          <p className="big">{t.devicesOf(num(metric('moby_devices')), num(metric('moby_devices_limit')))}</p>
        </Tile>
        <Tile title={t.tileStream} state="neutral" testId="tile-stream">
          <p>{t.wsClients(num(metric('moby_websocket_clients')))}</p>
          <p>{t.alertEvents(num(metric('moby_alert_events_published_total')))}</p>
        </Tile>
      </div>
    </section>
  );
}
