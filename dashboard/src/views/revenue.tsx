// Revenue: orders, gross, refunds and net per currency over the period and over time, and the
// share of orders linked to a visitor (with how to raise it: docs/revenue.md's visitor-id setup).
import { useEffect, useState } from 'preact/hooks';
import { Card, Empty, ErrorNote } from '../components/card';
import { Chart } from '../components/chart';
import { CurrencyPicker, MetricTable } from '../components/metrictable';
import { type MetricValue, query, type QueryBody, type QueryResult, rows } from '../lib/api';
import { useAsync } from '../lib/async';
import { compact, numeric } from '../lib/format';
import { METRICS } from '../lib/metrics';
import { markReady } from '../lib/ready';
import { timeLabel } from './overview-data';
import { body, type View } from '../lib/view';

const TOTALS = ['orders', 'gross_revenue', 'refunds', 'net_revenue', 'linked_order_share'];
const SERIES = ['gross_revenue', 'refunds', 'net_revenue'];

interface RevenueData {
  totals: Record<string, MetricValue | string>[];
  series: { labels: string[]; byCurrency: Map<string, Record<string, (number | null)[]>> };
  queries: { body: QueryBody; result?: QueryResult }[];
}

async function loadRevenue(view: View): Promise<RevenueData> {
  const queries: RevenueData['queries'] = [];
  const ask = async (b: QueryBody) => {
    const entry: { body: QueryBody; result?: QueryResult } = { body: b };
    queries.push(entry);
    entry.result = await query(b);
    return entry.result;
  };
  const totalsBody = body(view, { metrics: TOTALS, dimensions: ['revenue:currency'], order_by: [['net_revenue', 'desc']] });
  const dimension = `time:${view.interval === 'hour' ? 'hour' : view.interval}`;
  const seriesBody = body(view, {
    metrics: SERIES,
    dimensions: [dimension, 'revenue:currency'],
    include: { time_labels: true },
    order_by: [[dimension, 'asc']],
    pagination: { limit: 10_000 },
  });
  const [totals, series] = await Promise.all([ask(totalsBody), ask(seriesBody)]);
  const labels = (series.meta.time_labels ?? [...new Set(series.results.map((r) => r.dimensions[0]))]).map(String);
  const index = new Map(labels.map((l, i) => [l, i]));
  const byCurrency = new Map<string, Record<string, (number | null)[]>>();
  for (const r of series.results) {
    const currency = r.dimensions[1];
    if (!currency) continue;
    if (!byCurrency.has(currency)) byCurrency.set(currency, Object.fromEntries(SERIES.map((m) => [m, labels.map(() => 0)])));
    const i = index.get(String(r.dimensions[0]));
    if (i === undefined) continue;
    SERIES.forEach((m, mi) => (byCurrency.get(currency)![m][i] = numeric(r.metrics[mi]) ?? 0));
  }
  return { totals: rows(totals, totalsBody), series: { labels, byCurrency }, queries };
}

export function Revenue({ view }: { view: View }) {
  const key = JSON.stringify([view.site.site_id, view.range, view.filters, view.interval]);
  const loaded = useAsync(() => loadRevenue(view), key);
  const [currency, setCurrency] = useState('');
  useEffect(() => {
    if (loaded.data) markReady('revenue', loaded.data.queries);
  }, [loaded.version]);
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  const data = loaded.data;
  const currencies = data?.totals.map((r) => String(r['revenue:currency'])) ?? [];
  const shown = currencies.includes(currency) ? currency : (currencies[0] ?? '');
  const series = data?.series.byCurrency.get(shown);
  const linked = data?.totals.map((r) => numeric(r.linked_order_share as MetricValue) ?? 0) ?? [];
  const lowLink = linked.some((v) => v < 0.9);
  return (
    <div class="revenue" data-state={loaded.loading ? 'loading' : 'ready'}>
      <Card title="Per currency" wide busy={loaded.loading} testid="revenue-totals">
        {data && !data.totals.length ? (
          <Empty>No orders in this period. Connect Stripe or Shopify in settings, or send orders to the payments API.</Empty>
        ) : (
          <MetricTable
            testid="revenue-table"
            caption="Orders and revenue per currency"
            nameHeader="Currency"
            name={(r) => String(r['revenue:currency'])}
            metrics={TOTALS}
            rows={data?.totals ?? []}
            scroll="Scrollable table"
          />
        )}
      </Card>
      <Card title={`Over time${shown ? ` (${shown})` : ''}`} wide busy={loaded.loading} testid="revenue-chart">
        <CurrencyPicker currencies={currencies} value={shown} onChange={setCurrency} />
        {series && data ? (
          <Chart
            labels={data.series.labels.map((l) => timeLabel(l, view.interval))}
            series={SERIES.map((m) => ({ label: METRICS[m].label, values: series[m] }))}
            format={compact}
            ariaLabel={`Gross revenue, refunds and net revenue in ${shown} by ${view.interval}`}
          />
        ) : data ? (
          <Empty />
        ) : (
          <div class="chart placeholder" />
        )}
      </Card>
      {data && data.totals.length > 0 && lowLink && (
        <Card title="Raise the linked-order share" wide testid="linked-hint">
          <p>
            An order counts in attribution only when it is linked to the visitor who browsed first. Pass the tag's <code>touchline.visitorId()</code> to your
            checkout:
          </p>
          <ul>
            <li>
              Stripe: as <code>metadata[touchline_visitor_id]</code> (or <code>client_reference_id</code>) of the Checkout Session or Payment Intent;
            </li>
            <li>
              Shopify: as the cart attribute <code>_touchline_visitor_id</code>;
            </li>
            <li>
              the payments API: as <code>visitor_id</code>.
            </li>
          </ul>
          <p class="muted">Orders that carry a customer id or email seen by identify() are linked too (docs/revenue.md, docs/identity.md).</p>
        </Card>
      )}
    </div>
  );
}
