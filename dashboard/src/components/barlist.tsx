// A ranked list (top sources, pages, countries…): each row's bar shows its share of the top
// row, its name filters the dashboard by it, and the numbers are the API's, formatted.
import type { MetricValue } from '../lib/api';
import { formatValue } from '../lib/format';
import { METRICS } from '../lib/metrics';
import { Empty } from './card';

export interface ListRow {
  name: string;
  label?: string;
  values: Record<string, MetricValue | string>;
}

interface BarListProps {
  caption: string;
  nameHeader: string;
  rows: ListRow[];
  metrics: string[];
  /** Which metric draws the bar. */
  barMetric?: string;
  onSelect?: (row: ListRow) => void;
  selectLabel?: (row: ListRow) => string;
  testid?: string;
}

export function BarList({ caption, nameHeader, rows, metrics, barMetric, onSelect, selectLabel, testid }: BarListProps) {
  if (!rows.length) return <Empty />;
  const bar = barMetric ?? metrics[0];
  const top = Math.max(1, ...rows.map((r) => Number(r.values[bar] ?? 0) || 0));
  return (
    <table class="barlist" data-testid={testid}>
      <caption class="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{nameHeader}</th>
          {metrics.map((m) => (
            <th scope="col" class="num">
              {METRICS[m]?.label ?? m}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const share = Math.max(0, Math.min(100, ((Number(row.values[bar] ?? 0) || 0) / top) * 100));
          const text = row.label ?? (row.name || '(none)');
          return (
            <tr data-name={row.name}>
              <th scope="row" class="name">
                <span class="bar" style={{ width: `${share}%` }} aria-hidden="true" />
                {onSelect ? (
                  <button type="button" class="link" onClick={() => onSelect(row)} title={selectLabel?.(row)} aria-label={selectLabel?.(row)}>
                    {text}
                  </button>
                ) : (
                  <span>{text}</span>
                )}
              </th>
              {metrics.map((m) => (
                <td class="num" data-metric={m}>
                  {formatValue(row.values[m] as MetricValue, METRICS[m]?.kind ?? 'count')}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
