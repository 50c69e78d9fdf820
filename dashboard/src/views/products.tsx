// Products: the top sellers of the last 30 days, the chosen product's sales over time and what is
// bought together with it (market basket lift). One currency at a time (docs/commerce.md).
import { useEffect, useState } from 'preact/hooks';
import { BarList } from '../components/barlist';
import { Card, Empty, ErrorNote, type Tab } from '../components/card';
import { Chart } from '../components/chart';
import { type MetricValue, rows } from '../lib/api';
import { useAsync } from '../lib/async';
import { compact, formatValue, numeric } from '../lib/format';
import { METRICS } from '../lib/metrics';
import { markReady } from '../lib/ready';
import type { View } from '../lib/view';
import { CurrencyPicker, MetricTable } from '../components/metrictable';
import { asker, type Snapshot, snapshotBody } from './customers';
import { timeLabel } from './overview-data';

type Row = Record<string, MetricValue | string>;
type Span = '30d' | '12mo';

const TOP_METRICS = ['product_revenue_30d', 'product_quantity_30d', 'product_customers_30d', 'product_conversion_rate', 'product_repurchase_rate'];
const TOGETHER_METRICS = ['co_purchases', 'basket_confidence', 'basket_lift'];
const SPANS: Tab<Span>[] = [
  { id: '30d', label: '30 days' },
  { id: '12mo', label: '12 months' },
];

interface ProductsData extends Snapshot {
  currency: string;
  top: Row[];
  product: string;
  productName: string;
  trend: { labels: string[]; revenue: (number | null)[]; units: (number | null)[] };
  together: Row[];
}

async function loadProducts(view: View, wanted: string, chosen: string, span: Span): Promise<ProductsData> {
  const queries: Snapshot['queries'] = [];
  const ask = asker(queries);
  const byCurrency = snapshotBody(view, { metrics: ['products'], dimensions: ['product:currency'], order_by: [['products', 'desc']] });
  const currencies = rows(await ask(byCurrency), byCurrency).map((r) => String(r['product:currency']));
  const currency = currencies.includes(wanted) ? wanted : (currencies[0] ?? '');
  const empty = { labels: [], revenue: [], units: [] };
  if (!currency) return { queries, currencies, currency, top: [], product: '', productName: '', trend: empty, together: [] };
  const only = ['is', 'product:currency', [currency]];
  const topBody = snapshotBody(view, {
    metrics: TOP_METRICS,
    dimensions: ['product:id', 'product:name'],
    filters: [only],
    order_by: [['product_revenue_30d', 'desc']],
    pagination: { limit: 20 },
  });
  const top = rows(await ask(topBody), topBody);
  const picked = top.find((r) => r['product:id'] === chosen) ?? top[0];
  const product = picked ? String(picked['product:id']) : '';
  if (!product) return { queries, currencies, currency, top, product, productName: '', trend: empty, together: [] };
  const interval = span === '30d' ? 'day' : 'month';
  const trendBody = {
    site_id: view.site.site_id || view.site.domain,
    date_range: span,
    metrics: ['sales_revenue', 'sales_units'],
    dimensions: [`time:${interval}`],
    filters: [only, ['is', 'product:id', [product]]],
    include: { time_labels: true },
    order_by: [[`time:${interval}`, 'asc']] as [string, 'asc'][],
    pagination: { limit: 1000 },
  };
  const togetherBody = snapshotBody(view, {
    metrics: TOGETHER_METRICS,
    dimensions: ['basket:product_b', 'basket:product_b_name'],
    filters: [['is', 'basket:product_a', [product]]],
    order_by: [
      ['basket_lift', 'desc'],
      ['co_purchases', 'desc'],
    ],
    pagination: { limit: 10 },
  });
  const [trend, together] = await Promise.all([ask(trendBody), ask(togetherBody)]);
  const labels = (trend.meta.time_labels ?? trend.results.map((r) => r.dimensions[0])).map(String);
  const at = new Map(trend.results.map((r) => [String(r.dimensions[0]), r.metrics]));
  return {
    queries,
    currencies,
    currency,
    top,
    product,
    productName: String(picked['product:name'] || product),
    trend: {
      labels: labels.map((l) => timeLabel(l, interval)),
      revenue: labels.map((l) => numeric(at.get(l)?.[0]) ?? 0),
      units: labels.map((l) => numeric(at.get(l)?.[1]) ?? 0),
    },
    together: rows(together, togetherBody),
  };
}

export function Products({ view }: { view: View }) {
  const [currency, setCurrency] = useState('');
  const [chosen, setChosen] = useState('');
  const [span, setSpan] = useState<Span>('30d');
  const key = JSON.stringify([view.site.site_id, currency, chosen, span]);
  const loaded = useAsync(() => loadProducts(view, currency, chosen, span), key);
  useEffect(() => {
    if (loaded.data) markReady('products', loaded.data.queries);
  }, [loaded.version]);
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  const data = loaded.data;
  const busy = loaded.loading;
  if (data && !data.currencies.length) {
    return (
      <div class="commerce">
        <Card title="Products" wide testid="products-empty">
          <Empty>
            No product sales yet. Products come from the line items of orders (Shopify, Klaviyo, the tracking API's <code>Order Completed</code>), computed hourly;{' '}
            <code>touchline commerce run</code> computes them now.
          </Empty>
        </Card>
      </div>
    );
  }
  const shown = data?.currency ?? '';
  const name = data?.productName ?? '';
  return (
    <div class="commerce" data-state={busy ? 'loading' : 'ready'}>
      <div class="commerce-head">
        <CurrencyPicker
          currencies={data?.currencies ?? []}
          value={shown}
          onChange={(c) => {
            setCurrency(c);
            setChosen('');
          }}
        />
      </div>
      <Card title={`Top products, last 30 days${shown ? ` (${shown})` : ''}`} wide busy={busy} testid="top-products">
        {data ? (
          <BarList
            caption="Products by revenue in the last 30 days"
            nameHeader="Product"
            rows={data.top.map((r) => ({ name: String(r['product:id']), label: String(r['product:name'] || r['product:id']), values: r }))}
            metrics={TOP_METRICS}
            onSelect={(row) => setChosen(row.name)}
            selectLabel={(row) => `Show ${row.label ?? row.name}: sales over time and bought together`}
            testid="list-products"
          />
        ) : (
          <div class="placeholder" />
        )}
      </Card>
      <Card title={name ? `${name}: sales` : 'Sales'} tabs={SPANS} tab={span} onTab={setSpan} busy={busy} testid="product-trend">
        {data && data.trend.labels.length > 0 && (
          <p class="muted" data-testid="trend-units">
            {formatValue(data.trend.units.reduce<number>((a, b) => a + (b ?? 0), 0), 'count')} units in {span === '30d' ? 'the last 30 days' : 'the last 12 months'}
          </p>
        )}
        {data && data.trend.labels.length ? (
          <Chart
            labels={data.trend.labels}
            series={[{ label: `${METRICS.sales_revenue.label} (${shown})`, values: data.trend.revenue }]}
            format={compact}
            ariaLabel={`${name}: revenue in ${shown} by ${span === '30d' ? 'day' : 'month'}`}
            testid="trend-chart"
          />
        ) : data ? (
          <Empty />
        ) : (
          <div class="chart placeholder" />
        )}
      </Card>
      <Card title={name ? `Bought together with ${name}` : 'Bought together'} busy={busy} testid="bought-together">
        {data && !data.together.length ? (
          <Empty>No product is bought with this one often enough yet (the threshold is a site setting: docs/commerce.md).</Empty>
        ) : (
          <MetricTable
            testid="together-table"
            caption="Products bought in the same order, by lift"
            nameHeader="Product"
            name={(r) => String(r['basket:product_b'])}
            label={(r) => String(r['basket:product_b_name'] || r['basket:product_b'])}
            metrics={TOGETHER_METRICS}
            rows={data?.together ?? []}
          />
        )}
      </Card>
    </div>
  );
}
