// Grouped bars in SVG: one group per channel (or source, campaign), one bar per attribution
// model, so the six models read side by side. The numbers themselves are in the table beside it.
import { compact } from '../lib/format';

interface GroupedBarsProps {
  groups: string[];
  series: { label: string; values: number[] }[];
  ariaLabel: string;
  format?: (v: number) => string;
}

export function GroupedBars({ groups, series, ariaLabel, format = compact }: GroupedBarsProps) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const groupWidth = 100;
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const width = Math.max(1, groups.length) * groupWidth;
  const height = 200;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * max);
  return (
    <figure class="grouped-bars">
      <svg viewBox={`-60 -10 ${width + 70} ${height + 50}`} role="img" aria-label={ariaLabel} preserveAspectRatio="xMinYMin meet">
        {ticks.map((t) => {
          const y = height - (t / max) * height;
          return (
            <g class="tick">
              <line x1={0} x2={width} y1={y} y2={y} />
              <text x={-8} y={y + 4} text-anchor="end">
                {format(t)}
              </text>
            </g>
          );
        })}
        {groups.map((g, gi) => (
          <g transform={`translate(${gi * groupWidth + groupWidth * 0.1},0)`}>
            {series.map((s, si) => {
              const h = ((s.values[gi] ?? 0) / max) * height;
              return (
                <rect class={`model-${si + 1}`} x={si * barWidth} y={height - h} width={barWidth - 1} height={h}>
                  <title>{`${g} · ${s.label}: ${format(s.values[gi] ?? 0)}`}</title>
                </rect>
              );
            })}
            <text class="group-label" x={groupWidth * 0.4} y={height + 18} text-anchor="middle">
              {g.length > 14 ? g.slice(0, 13) + '…' : g}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        {series.map((s, si) => (
          <span>
            <i class={`swatch model-${si + 1}`} aria-hidden="true" />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
