// What every view needs to ask the query API: the site, the local days of the period and of
// the previous one, and the filter chips as Plausible v2 filters.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { FilterTree, QueryBody } from './api';
import { dateRange } from './api';
import { intervalsFor, type Interval, periodRange, previousRange, type Range } from './dates';
import type { Filter, ViewState } from './route';

export interface Site {
  site_id: string;
  domain: string;
  timezone: string;
  org_id?: string;
  lookback_days?: number;
  half_life_days?: number;
  cookieless?: boolean;
}

export interface Access {
  /** A shared link: read-only, one site, no navigation to anything else. */
  shared: boolean;
  permissions: ReadonlySet<string>;
}

export interface View {
  state: ViewState;
  site: Site;
  access: Access;
  range: Range | null;
  previous: Range | null;
  interval: Interval;
  intervals: Interval[];
  filters: FilterTree[];
}

export function makeView(state: ViewState, site: Site, access: Access): View {
  const range = periodRange(state.period, site.timezone || 'UTC', state.custom);
  const { options, fallback } = intervalsFor(range);
  const interval = state.interval && options.includes(state.interval) ? state.interval : fallback;
  return {
    state,
    site,
    access,
    range,
    previous: range && state.compare ? previousRange(range, state.period) : null,
    interval,
    intervals: options,
    filters: apiFilters(state.filters),
  };
}

/** Chips on the same dimension and operator are alternatives (or); the rest all apply (and). */
export function apiFilters(filters: Filter[]): FilterTree[] {
  const grouped = new Map<string, string[]>();
  for (const f of filters) {
    const key = `${f.op}\u0000${f.dim}`;
    grouped.set(key, [...(grouped.get(key) ?? []), f.value]);
  }
  return [...grouped].map(([key, values]) => {
    const [op, dim] = key.split('\u0000');
    return [op, dim, values];
  });
}

export function body(view: View, parts: Omit<QueryBody, 'site_id' | 'date_range'>, range: Range | null = view.range): QueryBody {
  const filters = [...view.filters, ...(parts.filters ?? [])];
  return {
    site_id: view.site.site_id || view.site.domain,
    date_range: dateRange(range),
    ...parts,
    ...(filters.length ? { filters } : { filters: undefined }),
  };
}

export const ViewContext = createContext<View | null>(null);

export function useView(): View {
  const view = useContext(ViewContext);
  if (!view) throw new Error('useView outside a site');
  return view;
}

export function can(view: View, permission: string): boolean {
  return !view.access.shared && view.access.permissions.has(permission);
}
