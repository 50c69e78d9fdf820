// The overview's queries, all sent in one round (in parallel), and the answers each card needs.
// Every number on screen comes from one of these POST /api/v2/query answers, unchanged.
import { type FilterTree, type MetricValue, query, type QueryBody, type QueryResult, rows } from '../lib/api';
import { body, type View } from '../lib/view';

export const TRAFFIC_STATS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'] as const;
export const LIST_LIMIT = 10;
export const MORE_LIMIT = 100;

export interface ListSpec {
  dimension: string;
  metrics: string[];
  limit: number;
  filters?: FilterTree[];
}

export interface Part<T> {
  value?: T;
  error?: Error;
}

export interface Note {
  id: string;
  date: string;
  content: string;
  tags: string[];
}

export interface Series {
  labels: string[];
  current: (number | null)[];
  previous: (number | null)[] | null;
  currency?: string;
  /** The site's annotations in the period (`include.annotations`), each at its bucket. */
  notes: { index: number; note: Note }[];
}

/** The bucket a note's day falls in: the last label that starts on or before it (hours: the
 * day's first hour; weeks and months: the bucket's first day). */
export function noteIndex(rawLabels: string[], day: string): number {
  if (rawLabels.some((label) => label.length > 10)) return rawLabels.findIndex((label) => label.slice(0, 10) === day);
  let found = -1;
  rawLabels.forEach((label, i) => {
    if (label.slice(0, 10) <= day) found = i;
  });
  return found;
}

export interface OverviewData {
  stats: Part<Record<string, MetricValue>>;
  previousStats: Part<Record<string, MetricValue>>;
  revenue: Part<{ currency: string; value: MetricValue }[]>;
  previousRevenue: Part<{ currency: string; value: MetricValue }[]>;
  goals: Part<Record<string, MetricValue | string>[]>;
  conversion: Part<{ current: MetricValue; previous: MetricValue | undefined } | null>;
  chart: Part<Series>;
  lists: Record<string, Part<Record<string, MetricValue | string>[]>>;
  /** Every query of the round with its answer: what the tests compare the screen with. */
  queries: { body: QueryBody; result?: QueryResult }[];
}

async function settle<T>(promise: Promise<T>): Promise<Part<T>> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: error as Error };
  }
}

function hasGoalFilter(view: View): boolean {
  return view.state.filters.some((f) => f.dim === 'event:goal');
}

/** Every goal of the site (`contains ""` matches each name): "completed any goal". */
export const ANY_GOAL: FilterTree = ['contains', 'event:goal', ['']];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2026-11-25` → `25 Nov`; `2026-11-25 14:00:00` → `14:00`; a month bucket → `Nov 2026`. */
export function timeLabel(label: string, interval = 'day'): string {
  const month = MONTHS[Number(label.slice(5, 7)) - 1] ?? '';
  if (interval === 'hour' && label.length > 10) return label.slice(11, 16);
  if (interval === 'month') return `${month} ${label.slice(0, 4)}`;
  return `${Number(label.slice(8, 10))} ${month}`;
}

export async function loadOverview(view: View, lists: Record<string, ListSpec>): Promise<OverviewData> {
  const queries: OverviewData['queries'] = [];
  const ask = (b: QueryBody) => {
    const entry: { body: QueryBody; result?: QueryResult } = { body: b };
    queries.push(entry);
    return query(b).then((r) => {
      entry.result = r;
      return r;
    });
  };
  const one = (b: QueryBody) => ask(b).then((r) => Object.fromEntries(b.metrics.map((m, i) => [m, r.results[0]?.metrics[i] ?? null])));
  const perCurrency = (b: QueryBody) =>
    ask(b).then((r) => r.results.map((x) => ({ currency: x.dimensions[0] ?? '', value: x.metrics[0] ?? null })).filter((x) => x.currency));

  const statsBody = body(view, { metrics: [...TRAFFIC_STATS] });
  const revenueBody = (range = view.range) => body(view, { metrics: ['net_revenue'], dimensions: ['revenue:currency'], order_by: [['net_revenue', 'desc']] }, range);
  const goalsBody = body(view, {
    metrics: ['visitors', 'events', 'conversion_rate', 'total_revenue'],
    dimensions: ['event:goal'],
    order_by: [['visitors', 'desc']],
    pagination: { limit: MORE_LIMIT },
  });

  const stats = settle(one(statsBody));
  const previousStats = view.previous ? settle(one(body(view, { metrics: [...TRAFFIC_STATS] }, view.previous))) : Promise.resolve({});
  const revenue = settle(perCurrency(revenueBody()));
  const previousRevenue = view.previous ? settle(perCurrency(revenueBody(view.previous))) : Promise.resolve({});
  const goals = settle(ask(goalsBody).then((r) => rows(r, goalsBody)));
  const chart = settle(loadChart(view, view.state.metric, ask));
  const listParts = Object.entries(lists).map(async ([key, spec]) => {
    const b = body(view, {
      metrics: spec.metrics,
      dimensions: [spec.dimension],
      filters: spec.filters,
      order_by: [[spec.metrics[0], 'desc']],
      pagination: { limit: spec.limit },
    });
    return [key, await settle(ask(b).then((r) => rows(r, b)))] as const;
  });
  // The conversion rate (visitors who completed any goal) goes in the same round: every goal
  // name contains "", so that filter selects all the site's goals without knowing their names.
  // Shown only when the period has goal completions (or a goal chip is on), as before.
  const extra = hasGoalFilter(view) ? [] : [ANY_GOAL];
  const currentRate = one(body(view, { metrics: ['conversion_rate'], filters: extra }));
  const previousRate = view.previous ? one(body(view, { metrics: ['conversion_rate'], filters: extra }, view.previous)) : Promise.resolve(undefined);
  const conversion = settle(
    Promise.all([goals, currentRate, previousRate]).then(([g, current, previous]) => {
      if (!(g.value ?? []).length && !hasGoalFilter(view)) return null;
      return { current: current.conversion_rate, previous: previous?.conversion_rate };
    }),
  );
  const [s, ps, rv, prv, gl, cv, ch, ls] = await Promise.all([stats, previousStats, revenue, previousRevenue, goals, conversion, chart, Promise.all(listParts)]);
  return {
    stats: s,
    previousStats: ps,
    revenue: rv,
    previousRevenue: prv,
    goals: gl,
    conversion: cv,
    chart: ch,
    lists: Object.fromEntries(ls),
    queries,
  };
}

async function loadChart(
  view: View,
  metric: string,
  ask: (b: QueryBody) => Promise<QueryResult>,
): Promise<Series> {
  const dimension = `time:${view.interval}`;
  const extraFilters: FilterTree[] = metric === 'conversion_rate' && !hasGoalFilter(view) ? [ANY_GOAL] : [];
  const money = metric === 'net_revenue';
  const seriesBody = (range = view.range, annotations = false) =>
    body(
      view,
      {
        metrics: [metric],
        dimensions: money ? [dimension, 'revenue:currency'] : [dimension],
        filters: extraFilters,
        include: annotations ? { time_labels: true, annotations: true } : { time_labels: true },
        order_by: [[dimension, 'asc']],
        pagination: { limit: 10_000 },
      },
      range,
    );
  const read = (r: QueryResult, currency?: string) => {
    const labels = (r.meta.time_labels ?? r.results.map((x) => x.dimensions[0])).map(String);
    const byLabel = new Map<string, number | null>();
    for (const x of r.results) {
      if (money && x.dimensions[1] !== currency) continue;
      const v = x.metrics[0];
      byLabel.set(String(x.dimensions[0]), v === null ? null : typeof v === 'number' ? v : v.value);
    }
    return { labels, values: labels.map((l) => byLabel.get(l) ?? 0) };
  };
  const [current, previous] = await Promise.all([ask(seriesBody(view.range, true)), view.previous ? ask(seriesBody(view.previous)) : Promise.resolve(null)]);
  // A money chart draws the currency with the most revenue.
  let currency: string | undefined;
  if (money) {
    const totals = new Map<string, number>();
    for (const x of current.results) {
      const v = x.metrics[0];
      const c = String(x.dimensions[1] ?? '');
      totals.set(c, (totals.get(c) ?? 0) + (typeof v === 'number' ? v : (v?.value ?? 0)));
    }
    currency = [...totals].sort((a, b) => b[1] - a[1])[0]?.[0];
  }
  const cur = read(current, currency);
  const prev = previous ? read(previous, currency) : null;
  const notes = ((current.meta.annotations ?? []) as Note[])
    .map((note) => ({ index: noteIndex(cur.labels, note.date), note }))
    .filter((n) => n.index >= 0);
  return {
    labels: cur.labels.map((l) => timeLabel(l, view.interval)),
    current: cur.values,
    previous: prev ? cur.labels.map((_, i) => prev.values[i] ?? null) : null,
    currency,
    notes,
  };
}

/** The first day of a range's previous period in words, for "vs …" labels. */
export function compareText(view: View): string | undefined {
  if (!view.previous) return undefined;
  return view.previous.from === view.previous.to ? `vs ${view.previous.from}` : `vs ${view.previous.from} – ${view.previous.to}`;
}
