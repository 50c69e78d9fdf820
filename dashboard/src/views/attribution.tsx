// Attribution: conversions and net revenue by channel (or source, campaign) under the six
// rule-based models and the data-driven ones (Markov chain, Shapley) side by side, each model's
// difference from last touch, which touches they credit (all, clicks only, paid only), the window
// and half-life the credits were computed with (editable by those allowed), and what each model
// means. A data-driven model the site has too few journeys for says so instead of showing zeros.
import modelDocs from 'virtual:model-docs';
import { useEffect, useState } from 'preact/hooks';
import { GroupedBars } from '../components/bars';
import { Card, Empty, ErrorNote } from '../components/card';
import { CurrencyPicker } from '../components/metrictable';
import { addFilter } from '../components/filters';
import { ApiError, type MetricValue, query, type QueryBody, type QueryResult, request, rows } from '../lib/api';
import { useAsync } from '../lib/async';
import { formatValue, numeric } from '../lib/format';
import { InlineMd } from '../lib/markdown';
import { dimensionLabel } from '../lib/metrics';
import { markReady } from '../lib/ready';
import { href, navigate } from '../lib/route';
import { sitesChanged } from '../lib/sites';
import { body, can, type View } from '../lib/view';

export const RULE_BASED = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'time_decay', 'position_based'] as const;
// Markov chains of order 1, 2 and 3 (docs/attribution.md) and Shapley.
export const DATA_DRIVEN = ['markov', 'markov_k2', 'markov_k3', 'shapley'] as const;
export const MODELS = [...RULE_BASED, ...DATA_DRIVEN];
export const MODEL_LABELS: Record<string, string> = {
  first_touch: 'First touch',
  last_touch: 'Last touch',
  last_non_direct: 'Last non-direct',
  linear: 'Linear',
  time_decay: 'Time decay',
  position_based: 'Position-based',
  markov: 'Markov chain',
  markov_k2: 'Markov, order 2',
  markov_k3: 'Markov, order 3',
  shapley: 'Shapley',
};
const TOUCHES: { id: string; label: string }[] = [
  { id: 'all', label: 'All touches' },
  { id: 'clicks_only', label: 'Clicks only' },
  { id: 'paid_only', label: 'Paid only' },
];
const GROUPS = ['visit:channel', 'visit:source', 'visit:utm_campaign'];
type Measure = 'revenue' | 'conversions';

interface AttributionData {
  currencies: string[];
  currency: string;
  table: Record<string, MetricValue | string>[];
  paths: Record<string, MetricValue | string>[];
  /** Data-driven models that credited nothing, with the API's reason ("orders: not computed, …"). */
  notFitted: Record<string, string>;
  queries: { body: QueryBody; result?: QueryResult }[];
}

async function loadAttribution(view: View, by: string, wantedCurrency: string, touches: string): Promise<AttributionData> {
  const queries: AttributionData['queries'] = [];
  const ask = async (b: QueryBody) => {
    const entry: { body: QueryBody; result?: QueryResult } = { body: b };
    queries.push(entry);
    entry.result = await query(b);
    return entry.result;
  };
  const variant = touches !== 'all' ? { include: { attribution_touches: touches } } : {};
  const currencyBody = body(view, { metrics: ['net_revenue'], dimensions: ['revenue:currency'], order_by: [['net_revenue', 'desc']] });
  const conversionsBody = body(view, {
    metrics: MODELS.map((m) => `attributed_conversions:${m}`),
    dimensions: [by],
    order_by: [['attributed_conversions:last_touch', 'desc']],
    pagination: { limit: 50 },
    ...variant,
  });
  const revenueBody = (currency: string) =>
    body(view, {
      metrics: MODELS.map((m) => `attributed_revenue:${m}`),
      dimensions: [by],
      filters: currency ? [['is', 'revenue:currency', [currency]]] : [],
      order_by: [['attributed_revenue:last_touch', 'desc']],
      pagination: { limit: 50 },
      ...variant,
    });
  // Revenue is never added across currencies: with several, the table shows one at a time
  // (conversions are counted whatever their currency).
  const [currencies, conversions, first] = await Promise.all([
    ask(currencyBody).then((r) => r.results.map((x) => x.dimensions[0]).filter(Boolean)),
    ask(conversionsBody),
    wantedCurrency ? null : ask(revenueBody('')),
  ]);
  const currency = wantedCurrency && currencies.includes(wantedCurrency) ? wantedCurrency : currencies.length > 1 ? currencies[0] : '';
  const b = revenueBody(currency);
  // Paths are per conversion, not per visit: they take the period but not the visit filters;
  // counted whatever the currency, with revenue in the currency shown.
  const pathsBody = (metric: string, filters?: unknown[][]): QueryBody => ({
    site_id: view.site.site_id || view.site.domain,
    date_range: body(view, { metrics: [] }).date_range,
    metrics: [metric],
    dimensions: ['conversion:path'],
    filters,
    order_by: [[metric, 'desc']],
    pagination: { limit: 10 },
  });
  const pathCounts = pathsBody('path_conversions');
  const pathRevenue = pathsBody('path_revenue', currency ? [['is', 'revenue:currency', [currency]]] : undefined);
  const [revenue, counts, amounts] = await Promise.all([first && !currency ? first : ask(b), ask(pathCounts), ask(pathRevenue)]);
  const amountOf = new Map(rows(amounts, pathRevenue).map((r) => [r['conversion:path'], r.path_revenue]));
  const paths = rows(counts, pathCounts).map((r) => ({ ...r, path_revenue: amountOf.get(r['conversion:path']) ?? null }));
  // One row per group: its conversions under every model, and its revenue in the currency shown.
  const table = new Map<string, Record<string, MetricValue | string>>();
  for (const row of [...rows(conversions, conversionsBody), ...rows(revenue, b)]) {
    const name = String(row[by] ?? '');
    table.set(name, { ...(table.get(name) ?? {}), ...row });
  }
  const notFitted: Record<string, string> = {};
  for (const r of [conversions, revenue]) {
    for (const [metric, w] of Object.entries(r.meta.metric_warnings ?? {})) {
      const model = metric.split(':')[1] ?? '';
      if (w.code === 'model_not_fitted' && model) notFitted[model] = notFitted[model] ? `${notFitted[model]}; ${w.warning}` : w.warning;
    }
  }
  return { currencies, currency, table: [...table.values()], paths, notFitted, queries };
}

export function Attribution({ view }: { view: View }) {
  const by = GROUPS.includes(view.state.by) ? view.state.by : 'visit:channel';
  const [currency, setCurrency] = useState('');
  const [measure, setMeasure] = useState<Measure>('revenue');
  const touches = TOUCHES.some((x) => x.id === view.state.touches) ? view.state.touches : 'all';
  const key = JSON.stringify([view.site.site_id, view.range, view.filters, by, currency, touches]);
  const loaded = useAsync(() => loadAttribution(view, by, currency, touches), key);
  useEffect(() => {
    if (loaded.data) markReady('attribution', loaded.data.queries);
  }, [loaded.version]);
  const data = loaded.data;
  const metric = (model: string) => `attributed_${measure}:${model}`;
  const value = (row: Record<string, MetricValue | string>, model: string) => numeric(row[metric(model)] as MetricValue) ?? 0;
  const kind = measure === 'revenue' ? 'money' : 'decimal';
  const table = data ? [...data.table].sort((a, b) => value(b, 'last_touch') - value(a, 'last_touch')) : [];
  const fitted = (m: string) => !data?.notFitted[m];
  const charted = MODELS.filter(fitted);

  return (
    <div class="attribution" data-state={loaded.loading ? 'loading' : 'ready'}>
      <div class="controls">
        <div class="segmented" role="group" aria-label="Group by">
          {GROUPS.map((g) => (
            <button type="button" aria-pressed={g === by} onClick={() => navigate(href(view.state, { by: g }), true)}>
              {dimensionLabel(g).replace('UTM campaign', 'Campaign')}
            </button>
          ))}
        </div>
        <div class="segmented" role="group" aria-label="Measure">
          <button type="button" aria-pressed={measure === 'revenue'} onClick={() => setMeasure('revenue')}>
            Net revenue
          </button>
          <button type="button" aria-pressed={measure === 'conversions'} onClick={() => setMeasure('conversions')}>
            Conversions
          </button>
        </div>
        <div class="segmented" role="group" aria-label="Touches credited">
          {TOUCHES.map((x) => (
            <button type="button" aria-pressed={x.id === touches} onClick={() => navigate(href(view.state, { touches: x.id }), true)}>
              {x.label}
            </button>
          ))}
        </div>
        {data && <CurrencyPicker currencies={data.currencies} value={data.currency} onChange={setCurrency} />}
      </div>
      {loaded.error ? (
        <ErrorNote error={loaded.error} />
      ) : (
        <>
          <Card title={`${measure === 'revenue' ? 'Net revenue' : 'Conversions'} by ${dimensionLabel(by).toLowerCase()} under each model`} wide busy={loaded.loading} testid="attribution-chart">
            {data && data.table.length ? (
              <GroupedBars
                groups={table.slice(0, 8).map((r) => String(r[by] || '(none)'))}
                series={charted.map((m) => ({ label: MODEL_LABELS[m], values: table.slice(0, 8).map((r) => value(r, m)) }))}
                ariaLabel={`${measure} by ${dimensionLabel(by)} under ${charted.length} attribution models (the table below has the numbers)`}
              />
            ) : data ? (
              <Empty>No conversions in this period.</Empty>
            ) : (
              <div class="chart placeholder" />
            )}
          </Card>
          <Card title="Every model side by side" wide busy={loaded.loading} testid="attribution-table">
            {data && data.table.length > 0 && (
              <div class="table-scroll" tabIndex={0} role="region" aria-label="Scrollable table">
                <table class="models" data-testid="models-table">
                  <caption class="sr-only">
                    {measure} by {dimensionLabel(by)} per model, with the difference from last touch
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">{dimensionLabel(by)}</th>
                      {MODELS.map((m) => (
                        <th scope="col" class="num" data-model={m}>
                          {MODEL_LABELS[m]}
                          {(DATA_DRIVEN as readonly string[]).includes(m) && <span class="muted block">data-driven</span>}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {table.map((row) => {
                      const name = String(row[by] ?? '');
                      const last = value(row, 'last_touch');
                      return (
                        <tr data-name={name}>
                          <th scope="row">
                            <button type="button" class="link" onClick={() => addFilter(view, by, name)} aria-label={`Filter by ${dimensionLabel(by)} ${name || '(none)'}`}>
                              {name || '(none)'}
                            </button>
                          </th>
                          {MODELS.map((m) => {
                            if (!fitted(m))
                              return (
                                <td class="num muted" data-model={m} title={data?.notFitted[m]}>
                                  <span class="cell-value">—</span>
                                  <span class="sr-only"> not computed</span>
                                </td>
                              );
                            const v = value(row, m);
                            const diff = v - last;
                            return (
                              <td class="num" data-model={m}>
                                <span class="cell-value">{formatValue(row[metric(m)] as MetricValue, kind)}</span>
                                {m !== 'last_touch' && Math.abs(diff) > 1e-9 && (
                                  <span class={`diff ${diff > 0 ? 'good' : 'bad'}`} data-diff={diff}>
                                    {diff > 0 ? '+' : '−'}
                                    {measure === 'revenue' ? formatValue(Math.abs(diff), 'decimal') : formatValue(Math.round(Math.abs(diff) * 100) / 100, 'decimal')}
                                    {last ? ` (${diff > 0 ? '+' : '−'}${Math.round((Math.abs(diff) / last) * 1000) / 10}%)` : ''}
                                    <span class="sr-only"> vs last touch</span>
                                  </span>
                                )}
                              </td>
                            );
                          })}
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
            {data && !data.table.length && <Empty>No conversions in this period.</Empty>}
            {data && data.currency && <p class="muted">Amounts in {data.currency}.</p>}
            {data && Object.keys(data.notFitted).length > 0 && (
              <ul class="muted notes" data-testid="not-fitted">
                {Object.entries(data.notFitted).map(([m, why]) => (
                  <li>
                    {MODEL_LABELS[m] ?? m}: {why}
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </>
      )}
      <Card title="Top converting paths" wide busy={loaded.loading} testid="paths">
        {data && !data.paths.length && <Empty>No conversions in this period.</Empty>}
        {data && data.paths.length > 0 && (
          <table class="models" data-testid="paths-table">
            <caption class="sr-only">The touchpoint channels of converting journeys, most frequent first</caption>
            <thead>
              <tr>
                <th scope="col">Path (channels in order)</th>
                <th scope="col" class="num">
                  Conversions
                </th>
                <th scope="col" class="num">
                  Net revenue
                </th>
              </tr>
            </thead>
            <tbody>
              {data.paths.map((p) => (
                <tr data-name={String(p['conversion:path'])}>
                  <th scope="row" class="path">
                    {String(p['conversion:path'])}
                  </th>
                  <td class="num" data-metric="path_conversions">
                    {formatValue(p.path_conversions as MetricValue, 'count')}
                  </td>
                  <td class="num" data-metric="path_revenue">
                    {formatValue(p.path_revenue as MetricValue, 'money')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted">Each conversion's sessions within the lookback window, oldest first; "(none)": no session before it.</p>
      </Card>
      <div class="grid">
        <Window view={view} />
        <Card title="What the models mean" testid="model-docs">
          <div class="model-docs">
            {MODELS.map((m) => (
              <details>
                <summary>{MODEL_LABELS[m]}</summary>
                <p>
                  <InlineMd text={modelDocs[m] ?? ''} />
                </p>
              </details>
            ))}
          </div>
          <p class="muted">Credits per conversion sum to 1 under every model; see docs/attribution.md.</p>
        </Card>
      </div>
    </div>
  );
}

function Window({ view }: { view: View }) {
  const editable = can(view, 'sites:write');
  const [lookback, setLookback] = useState(String(view.site.lookback_days ?? 30));
  const [halfLife, setHalfLife] = useState(String(view.site.half_life_days ?? 7));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const save = async (event: Event) => {
    event.preventDefault();
    setMessage(null);
    try {
      await request('PATCH', `/api/v1/sites/${encodeURIComponent(view.site.site_id)}`, { lookback_days: Number(lookback), half_life_days: Number(halfLife) });
      await sitesChanged(); // the shell's copy of the site, which this card and settings read
      setMessage({ ok: true, text: 'Saved. The next aggregation run (every 15 minutes) recomputes the credits.' });
    } catch (e) {
      setMessage({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
    }
  };
  return (
    <Card title="Lookback window and half-life" testid="attribution-window">
      {editable ? (
        <form class="form" onSubmit={save}>
          <label>
            Lookback window (days)
            <input type="number" min={1} max={365} value={lookback} onInput={(e) => setLookback(e.currentTarget.value)} required />
          </label>
          <label>
            Time-decay half-life (days)
            <input type="number" min={0.1} max={365} step="any" value={halfLife} onInput={(e) => setHalfLife(e.currentTarget.value)} required />
          </label>
          <button type="submit">Save</button>
          {message && (
            <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>
              {message.text}
            </p>
          )}
        </form>
      ) : (
        <dl class="facts">
          <dt>Lookback window</dt>
          <dd>{view.site.lookback_days ?? 30} days</dd>
          <dt>Time-decay half-life</dt>
          <dd>{view.site.half_life_days ?? 7} days</dd>
        </dl>
      )}
    </Card>
  );
}
