// The active filters as removable chips; each is also in the URL (?f=op,dimension,value).
import { dimensionLabel } from '../lib/metrics';
import { type Filter, href, navigate } from '../lib/route';
import type { View } from '../lib/view';

const OP_TEXT: Record<string, string> = { is: 'is', is_not: 'is not', contains: 'contains', contains_not: 'does not contain' };

export function FilterChips({ view }: { view: View }) {
  const filters = view.state.filters;
  if (!filters.length) return null;
  const without = (f: Filter) => filters.filter((x) => x !== f);
  return (
    <div class="chips" role="list" aria-label="Filters">
      {filters.map((f) => (
        <span class="chip" role="listitem" data-testid="filter-chip">
          <span>
            {dimensionLabel(f.dim)} {OP_TEXT[f.op]} <strong>{f.value || '(none)'}</strong>
          </span>
          <button type="button" aria-label={`Remove filter ${dimensionLabel(f.dim)} ${OP_TEXT[f.op]} ${f.value}`} onClick={() => navigate(href(view.state, { filters: without(f) }))}>
            ×
          </button>
        </span>
      ))}
      {filters.length > 1 && (
        <button type="button" class="link" onClick={() => navigate(href(view.state, { filters: [] }))}>
          Clear all
        </button>
      )}
    </div>
  );
}

/** Filter the dashboard by one value of a dimension (replacing any `is` filter on it). */
export function addFilter(view: View, dim: string, value: string): void {
  const kept = view.state.filters.filter((f) => !(f.dim === dim && f.op === 'is'));
  navigate(href(view.state, { filters: [...kept, { op: 'is', dim, value }] }));
}
