// The pages' tables of named rows and metric cells (revenue per currency, customers by churn
// risk, products bought together), and the currency picker of the pages that show money one
// currency at a time: one component each, so every page formats, labels and marks up its cells
// the same way (`data-name` on rows, `data-metric` on cells: what the tests read).
import type { ComponentChildren } from 'preact';
import type { MetricValue } from '../lib/api';
import { formatValue } from '../lib/format';
import { METRICS } from '../lib/metrics';

export type Row = Record<string, MetricValue | string>;

/** A choice of currency; nothing when there is only one (amounts are never added across). */
export function CurrencyPicker({ currencies, value, onChange }: { currencies: string[]; value: string; onChange: (c: string) => void }) {
  if (currencies.length < 2) return null;
  return (
    <label class="inline-select">
      Currency{' '}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid="currency">
        {currencies.map((c) => (
          <option value={c}>{c}</option>
        ))}
      </select>
    </label>
  );
}

interface MetricTableProps {
  testid: string;
  caption: string;
  /** The first column's header, and each row's identity (`data-name`) and shown name. */
  nameHeader: string;
  name: (row: Row) => string;
  label?: (row: Row) => ComponentChildren;
  /** Text columns between the name and the metrics. */
  text?: { header: string; value: (row: Row) => string }[];
  metrics: string[];
  rows: Row[];
  /** Wrapped in a keyboard-scrollable region (wide tables on narrow screens). */
  scroll?: string;
}

export function MetricTable({ testid, caption, nameHeader, name, label, text = [], metrics, rows, scroll }: MetricTableProps) {
  const table = (
    <table class="models" data-testid={testid}>
      <caption class="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{nameHeader}</th>
          {text.map((t) => (
            <th scope="col">{t.header}</th>
          ))}
          {metrics.map((m) => (
            <th scope="col" class="num">
              {METRICS[m].label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr data-name={name(r)}>
            <th scope="row" class={scroll ? 'ellipsis' : undefined} title={scroll ? name(r) : undefined}>
              {label ? label(r) : name(r)}
            </th>
            {text.map((t) => (
              <td>{t.value(r)}</td>
            ))}
            {metrics.map((m) => (
              <td class="num" data-metric={m}>
                {formatValue(r[m] as MetricValue, METRICS[m].kind)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
  if (!scroll) return table;
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={scroll}>
      {table}
    </div>
  );
}
