// One chart of a metric group (Chart.js, linear time axis shared by all charts of the page),
// with the catalog's limit lines and alert episodes. The drawn limits are also listed in the
// DOM (a visible caption and data-* attributes) so people and browser tests can read them.
import { useEffect, useMemo, useRef } from 'react';
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
} from 'chart.js';
import type { Catalog, ReadingSeries } from '../api/types';
import { axisRange, limitLines, seriesPoints, timeStep, unitOf, type ChartGroup, type Episode } from '../logic/charts';
import { formatAxisTime } from '../i18n/format';
import { useI18n } from '../i18n';
import { limitPlugin, type DrawnLimit } from './limitPlugin';
import { metricName } from '../logic/summary';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend, limitPlugin);

const seriesColors = ['--series-1', '--series-2', '--series-3'];

interface Props {
  group: ChartGroup;
  series: ReadingSeries | null;
  catalog: Catalog;
  from: number;
  to: number;
  episodes: Episode[];
  title: string;
  rangeLabel: string;
}

export function MetricChart({ group, series, catalog, from, to, episodes, title, rangeLabel }: Props) {
  const i18n = useI18n();
  const { t, lang, value: formatValue } = i18n;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<'line', { x: number; y: number }[]> | null>(null);

  const lines = useMemo(() => limitLines(group, catalog), [group, catalog]);
  const drawn: DrawnLimit[] = useMemo(
    () =>
      lines.map((line) => ({
        axis: line.axis,
        value: line.value,
        level: line.level,
        label: t.limitLine(
          t[`severity_${line.level}`],
          line.bound === 'high' ? t.boundHigh : t.boundLow,
          formatValue(line.value, line.unit),
        ),
      })),
    [lines, t, formatValue],
  );
  const points = useMemo(
    () => group.metrics.map((metric) => (series ? seriesPoints(series, metric) : [])),
    [group, series],
  );
  const hasData = points.some((p) => p.length > 0);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const style = getComputedStyle(canvas);
    const color = (name: string) => style.getPropertyValue(name).trim() || '#888';
    const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = group.metrics.map((metric, i) => ({
      label: `${metricName(metric, t)}${unitOf(metric, catalog) ? ` (${unitOf(metric, catalog)})` : ''}`,
      data: points[i],
      yAxisID: group.rightAxis?.includes(metric) ? 'y2' : 'y',
      borderColor: color(seriesColors[i % seriesColors.length]),
      backgroundColor: color(seriesColors[i % seriesColors.length]),
      borderWidth: 1.5,
      // A lone point (one bucket of data) is invisible as a line: draw it as a dot.
      pointRadius: points[i].length === 1 ? 3 : 0,
      pointHitRadius: 6,
      spanGaps: false,
    }));
    const rangeFor = (axis: 'y' | 'y2') => {
      const values = group.metrics
        .flatMap((metric, i) => ((group.rightAxis?.includes(metric) ? 'y2' : 'y') === axis ? points[i].map((p) => p.y) : []));
      return axisRange(values, lines.filter((l) => l.axis === axis)) ?? undefined;
    };
    const grid = color('--grid');
    const text = color('--muted');
    const span = to - from;
    const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            min: from,
            max: to,
            grid: { color: grid },
            ticks: { color: text, stepSize: timeStep(span), autoSkip: true, maxTicksLimit: 10, callback: (v) => formatAxisTime(Number(v), span, lang) },
          },
          y: { type: 'linear', position: 'left', ...rangeFor('y'), grid: { color: grid }, ticks: { color: text } },
          ...(group.rightAxis
            ? { y2: { type: 'linear' as const, position: 'right' as const, ...rangeFor('y2'), grid: { drawOnChartArea: false }, ticks: { color: text } } }
            : {}),
        },
        plugins: {
          legend: { display: group.metrics.length > 1, labels: { color: text, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? i18n.dateTime(items[0].parsed.x) : ''),
            },
          },
          mobyLimits: {
            lines: drawn,
            episodes: episodes.map((e) => ({ start: e.start, end: e.end, level: e.severity })),
          },
        },
      },
    };
    if (chartRef.current) {
      chartRef.current.data = config.data;
      chartRef.current.options = config.options ?? {};
      chartRef.current.update('none');
    } else {
      chartRef.current = new Chart(canvas, config);
    }
  }, [group, points, lines, drawn, episodes, from, to, lang, catalog, t, i18n]);

  useEffect(
    () => () => {
      chartRef.current?.destroy();
      chartRef.current = null;
    },
    [],
  );

  return (
    <figure
      className="chart"
      data-testid={`chart-${group.id}`}
      data-limits={JSON.stringify(drawn.map(({ label, value, level, axis }) => ({ label, value, level, axis })))}
    >
      <figcaption>
        <h3>{title}</h3>
        <ul className="limit-list" data-testid="limit-lines">
          {drawn.map((line) => (
            <li key={`${line.axis}-${line.level}-${line.value}`} className={`limit limit-${line.level}`} data-level={line.level} data-value={line.value}>
              <span aria-hidden="true">┄ </span>
              {line.label}
            </li>
          ))}
        </ul>
      </figcaption>
      <div className="chart-canvas">
        <canvas ref={canvasRef} role="img" aria-label={t.chartLabel(title, rangeLabel)} data-testid="chart-canvas" />
        {series && !hasData && <p className="chart-empty">{t.chartNoData}</p>}
      </div>
    </figure>
  );
}
