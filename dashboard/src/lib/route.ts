// The URL is the dashboard's state: the path says which site and page, the query string the
// period, the filters and the chart's options, so any view can be bookmarked and shared.
//
//   /<site>[/<page>[/<section>]]?period=30d&f=is,visit:source,Google&metric=visitors&interval=day
//   /share/<token>[/<page>]?…        a shared link: the same views, read-only
//   /sign-in
import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_PERIOD, type Interval, isIsoDate, type Period, PERIODS, type Range } from './dates';

export type FilterOp = 'is' | 'is_not' | 'contains' | 'contains_not';

export interface Filter {
  op: FilterOp;
  dim: string;
  value: string;
}

export interface ViewState {
  page: string;
  section: string;
  site: string;
  share: string;
  period: Period;
  custom?: Range;
  filters: Filter[];
  metric: string;
  interval?: Interval;
  compare: boolean;
  by: string;
  /** Attribution: which touches the models credit (`include.attribution_touches`). */
  touches: string;
}

const OPS: FilterOp[] = ['is', 'is_not', 'contains', 'contains_not'];
const PERIOD_IDS = new Set<string>([...PERIODS.map((p) => p.id), 'custom']);
const INTERVALS = new Set<string>(['hour', 'day', 'week', 'month']);

export function parse(location: { pathname: string; search: string }): ViewState {
  const parts = location.pathname
    .split('/')
    .filter(Boolean)
    .map((p) => safeDecode(p));
  const q = new URLSearchParams(location.search);
  let site = '';
  let share = '';
  let rest: string[] = [];
  if (parts[0] === 'share') {
    share = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'sign-in') {
    rest = ['sign-in'];
  } else {
    site = parts[0] ?? '';
    rest = parts.slice(1);
  }
  const periodParam = q.get('period') ?? '';
  let period: Period = PERIOD_IDS.has(periodParam) ? (periodParam as Period) : DEFAULT_PERIOD;
  let custom: Range | undefined;
  if (period === 'custom') {
    const from = q.get('from');
    const to = q.get('to');
    if (isIsoDate(from) && isIsoDate(to) && from <= to) custom = { from, to };
    else period = DEFAULT_PERIOD;
  }
  const interval = q.get('interval') ?? '';
  return {
    page: rest[0] ?? (site || share ? 'overview' : ''),
    section: rest[1] ?? '',
    site,
    share,
    period,
    custom,
    filters: q.getAll('f').flatMap(parseFilter),
    metric: q.get('metric') ?? 'visitors',
    interval: INTERVALS.has(interval) ? (interval as Interval) : undefined,
    compare: q.get('compare') !== 'off',
    by: q.get('by') ?? 'visit:channel',
    touches: q.get('touches') ?? 'all',
  };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function parseFilter(raw: string): Filter[] {
  // op,dimension,value — the value is last, so it may itself contain commas.
  const first = raw.indexOf(',');
  const second = raw.indexOf(',', first + 1);
  if (first < 0 || second < 0) return [];
  const op = raw.slice(0, first) as FilterOp;
  const dim = raw.slice(first + 1, second);
  if (!OPS.includes(op) || !/^(visit|event):[a-z_:0-9]+$/.test(dim)) return [];
  return [{ op, dim, value: raw.slice(second + 1) }];
}

export function href(state: ViewState, changes: Partial<ViewState> = {}): string {
  const next = { ...state, ...changes };
  const base = next.share
    ? ['share', next.share]
    : next.page === 'sign-in'
      ? []
      : next.site
        ? [next.site]
        : [];
  const path = [...base];
  if (next.page === 'sign-in') path.push('sign-in');
  else if (next.page && next.page !== 'overview') path.push(next.page);
  if (next.section && next.page !== 'overview') path.push(next.section);
  const q = new URLSearchParams();
  if (next.period !== DEFAULT_PERIOD) q.set('period', next.period);
  if (next.period === 'custom' && next.custom) {
    q.set('from', next.custom.from);
    q.set('to', next.custom.to);
  }
  for (const f of next.filters) q.append('f', `${f.op},${f.dim},${f.value}`);
  if (next.metric !== 'visitors') q.set('metric', next.metric);
  if (next.interval) q.set('interval', next.interval);
  if (!next.compare) q.set('compare', 'off');
  if (next.by !== 'visit:channel') q.set('by', next.by);
  if (next.touches && next.touches !== 'all') q.set('touches', next.touches);
  const search = q.toString();
  return '/' + path.map(encodeURIComponent).join('/') + (search ? '?' + search : '');
}

const listeners = new Set<() => void>();

export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/** The current view state; re-renders the caller whenever the URL changes. */
export function useRoute(): ViewState {
  const [state, setState] = useState(() => parse(location));
  useEffect(() => {
    const update = () => setState(parse(location));
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return state;
}

/** Left clicks on in-app links change the URL without a page load. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || anchor.target || anchor.origin !== location.origin || anchor.hasAttribute('download')) return;
  if (anchor.pathname.startsWith('/api/')) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
