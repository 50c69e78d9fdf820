// The time series on uPlot (small, fast, canvas), the previous period dotted. Colours come from
// CSS variables, so dark mode applies; a visually hidden table carries the same numbers for
// screen readers (and is what tests read).
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { compact } from '../lib/format';

export interface Series {
  label: string;
  values: (number | null)[];
  dashed?: boolean;
  color?: string;
}

export interface Mark {
  index: number;
  date: string;
  text: string;
  tags: string[];
}

interface ChartProps {
  labels: string[];
  /** Annotations: a dashed vertical line at each index, listed under the chart. */
  marks?: Mark[];
  series: Series[];
  height?: number;
  format?: (v: number) => string;
  ariaLabel: string;
  testid?: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Bumped when the system colour scheme changes: the canvas is drawn again in the new colours. */
function useScheme(): number {
  const [scheme, setScheme] = useState(0);
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const changed = () => setScheme((n) => n + 1);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  return scheme;
}


/** Draws each mark as a dashed line with a flag on top (uPlot's draw hook, under the cursor). */
function marksPlugin(marks: Mark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const color = cssVar('--annotation');
        ctx.save();
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
        const top = u.bbox.top;
        const bottom = u.bbox.top + u.bbox.height;
        for (const mark of marks) {
          const x = Math.round(u.valToPos(mark.index, 'x', true));
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, bottom);
          ctx.stroke();
          ctx.fillRect(x - 4 * devicePixelRatio, top, 8 * devicePixelRatio, 8 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

export function Chart({ labels, series, marks = [], height = 260, format = compact, ariaLabel, testid }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const scheme = useScheme();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { show: false } };
    const xs = labels.map((_, i) => i);
    const palette = ['--accent', '--accent', '--series-3'];
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      plugins: marks.length ? [marksPlugin(marks)] : [],
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { ...axis, values: (_u, ticks) => ticks.map((t) => labels[Math.round(t)] ?? ''), space: 60, incrs: [1, 2, 3, 5, 7, 10, 14, 30, 60, 90] },
        { ...axis, values: (_u, ticks) => ticks.map((t) => format(t)), size: 56 },
      ],
      series: [
        { label: 'x', value: (_u, v) => (v === null ? '' : labels[v] ?? '') },
        ...series.map((s, i) => {
          const color = s.color ?? cssVar(palette[i % palette.length]);
          return {
            label: s.label,
            stroke: color,
            width: s.dashed ? 1.5 : 2,
            dash: s.dashed ? [2, 5] : undefined,
            fill: s.dashed ? undefined : color + '1a',
            points: { show: labels.length < 40 && !s.dashed },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
          };
        }),
      ],
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify(labels), JSON.stringify(series), JSON.stringify(marks), height, scheme]);
  return (
    <figure class="chart" data-testid={testid}>
      <div ref={box} class="chart-canvas" role="img" aria-label={ariaLabel} />
      {series.length > 1 && (
        <figcaption class="legend">
          {series.map((s) => (
            <span>
              <i class={`swatch line${s.dashed ? ' dashed' : ''}`} aria-hidden="true" />
              {s.label}
            </span>
          ))}
        </figcaption>
      )}
      {marks.length > 0 && (
        <ul class="chart-notes" data-testid="chart-annotations">
          {marks.map((m) => (
            <li data-date={m.date}>
              <i class="swatch note" aria-hidden="true" />
              <time dateTime={m.date}>{labels[m.index] ?? m.date}</time> {m.text}
              {m.tags.map((t) => (
                <span class="tag">{t}</span>
              ))}
            </li>
          ))}
        </ul>
      )}
      <table class="sr-only">
        <caption>{ariaLabel}</caption>
        <thead>
          <tr>
            <th scope="col">Label</th>
            {series.map((s) => (
              <th scope="col">{s.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {labels.map((l, i) => (
            <tr>
              <th scope="row">{l}</th>
              {series.map((s) => (
                <td>{s.values[i] === null ? '—' : format(s.values[i] as number)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
