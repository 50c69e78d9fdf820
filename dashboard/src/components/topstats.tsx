// The row of headline numbers; each is a toggle button that puts its metric on the main chart.
import type { MetricValue } from '../lib/api';
import { change, formatValue } from '../lib/format';
import { METRICS } from '../lib/metrics';

export interface Stat {
  metric: string;
  value: MetricValue | undefined;
  previous?: MetricValue | undefined;
  note?: string;
  /** False where the chart cannot draw this metric. */
  chartable?: boolean;
}

interface TopStatsProps {
  stats: Stat[];
  selected: string;
  compareLabel?: string;
  onSelect: (metric: string) => void;
}

export function TopStats({ stats, selected, compareLabel, onSelect }: TopStatsProps) {
  return (
    <ul class="topstats" aria-label="Top stats">
      {stats.map((s) => {
        const info = METRICS[s.metric];
        const delta = compareLabel ? change(s.value, s.previous) : null;
        const good = delta === null || delta === 0 ? null : (delta > 0) !== !!info?.lowerIsBetter;
        const content = (
          <>
            <span class="stat-label">{info?.label ?? s.metric}</span>
            <span class="stat-value" data-testid={`stat-${s.metric}`}>
              {formatValue(s.value, info?.kind ?? 'count')}
            </span>
            {delta !== null && (
              <span class={`stat-change ${good === null ? '' : good ? 'good' : 'bad'}`} data-testid={`change-${s.metric}`}>
                <span aria-hidden="true">{delta > 0 ? '↑' : delta < 0 ? '↓' : '±'}</span>
                <span class="sr-only">{delta > 0 ? 'up' : delta < 0 ? 'down' : 'unchanged'}</span> {Math.abs(delta)}%
                <span class="sr-only"> {compareLabel}</span>
              </span>
            )}
            {s.note && <span class="stat-note">{s.note}</span>}
          </>
        );
        return (
          <li>
            {s.chartable === false ? (
              <div class="stat">{content}</div>
            ) : (
              <button type="button" class="stat" aria-pressed={s.metric === selected} onClick={() => onSelect(s.metric)}>
                {content}
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
