// A small Chart.js plugin (there is no annotation plugin in Debian): draws the catalog's limits
// as dashed, labelled horizontal lines and alert episodes as shaded spans on the time axis.
import type { Chart, Plugin } from 'chart.js';

export interface DrawnLimit {
  axis: string;
  value: number;
  label: string;
  level: 'warning' | 'critical';
}

export interface DrawnEpisode {
  start: number;
  end: number;
  level: 'warning' | 'critical';
}

export interface LimitPluginOptions {
  lines: DrawnLimit[];
  episodes: DrawnEpisode[];
}

declare module 'chart.js' {
  interface PluginOptionsByType<TType extends import('chart.js').ChartType> {
    mobyLimits?: LimitPluginOptions;
  }
}

function cssColor(chart: Chart, name: string, fallback: string): string {
  const value = getComputedStyle(chart.canvas).getPropertyValue(name).trim();
  return value || fallback;
}

export const limitPlugin: Plugin<'line'> = {
  id: 'mobyLimits',
  beforeDatasetsDraw(chart) {
    const options = chart.options.plugins?.mobyLimits;
    const x = chart.scales.x;
    if (!options || !x) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    for (const episode of options.episodes ?? []) {
      if (!episode || episode.start === undefined || episode.end === undefined) continue;
      const left = Math.max(chartArea.left, x.getPixelForValue(episode.start));
      const right = Math.min(chartArea.right, x.getPixelForValue(episode.end));
      if (right <= left) continue;
      ctx.fillStyle = cssColor(chart, episode.level === 'critical' ? '--critical-shade' : '--warning-shade', 'rgba(200,0,0,.1)');
      ctx.fillRect(left, chartArea.top, Math.max(2, right - left), chartArea.bottom - chartArea.top);
    }
    ctx.restore();
  },
  afterDatasetsDraw(chart) {
    const options = chart.options.plugins?.mobyLimits;
    if (!options) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'bottom';
    for (const line of options.lines ?? []) {
      if (!line || line.axis === undefined || line.value === undefined || line.label === undefined) continue;
      const scale = chart.scales[line.axis];
      if (!scale) continue;
      const y = scale.getPixelForValue(line.value);
      if (y < chartArea.top - 0.5 || y > chartArea.bottom + 0.5) continue;
      const color = cssColor(chart, line.level === 'critical' ? '--critical' : '--warning', '#c00');
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(line.level === 'critical' ? [6, 3] : [3, 3]);
      ctx.beginPath();
      ctx.moveTo(chartArea.left, y);
      ctx.lineTo(chartArea.right, y);
      ctx.stroke();
      ctx.fillStyle = color;
      const width = ctx.measureText(line.label).width;
      const textX = line.axis === 'y2' ? chartArea.left + 4 : chartArea.right - width - 4;
      ctx.fillText(line.label, textX, y - 2);
    }
    ctx.restore();
  },
};
