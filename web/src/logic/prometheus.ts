// Prometheus text format (what /metrics answers), reduced to what the pipeline page shows:
// each metric name with the sum over its label sets.

export type MetricValues = ReadonlyMap<string, number>;

export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // name{labels} value [timestamp]; label values may hold spaces and braces inside quotes.
    let nameEnd = line.search(/[{\s]/);
    if (nameEnd < 0) continue;
    const name = line.slice(0, nameEnd);
    if (line[nameEnd] === '{') {
      let inQuotes = false;
      let i = nameEnd + 1;
      for (; i < line.length; i += 1) {
        const c = line[i];
        if (c === '\\' && inQuotes) i += 1;
        else if (c === '"') inQuotes = !inQuotes;
        else if (c === '}' && !inQuotes) break;
      }
      nameEnd = i + 1;
    }
    const valueText = line.slice(nameEnd).trim().split(/\s+/)[0];
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText === undefined || valueText === '' || Number.isNaN(value)) continue;
    values.set(name, (values.get(name) ?? 0) + value);
  }
  return values;
}

/** Per-second rate of a counter between two scrapes; null without a previous one or after a reset. */
export function counterRate(
  previous: { values: MetricValues; at: number } | null,
  current: { values: MetricValues; at: number },
  name: string,
): number | null {
  if (!previous) return null;
  const before = previous.values.get(name);
  const now = current.values.get(name);
  const seconds = (current.at - previous.at) / 1000;
  if (before === undefined || now === undefined || seconds <= 0 || now < before) return null;
  return (now - before) / seconds;
}
