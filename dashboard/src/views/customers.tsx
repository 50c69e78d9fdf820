// Customers: RFM segments with their size and revenue, the recency × frequency/monetary grid, and
// the customers most likely to have stopped buying (BG/NBD churn risk). Snapshots of the last
// commerce run (docs/commerce.md), one currency at a time: amounts are never added across them.
import { useEffect, useState } from 'preact/hooks';
import { BarList } from '../components/barlist';
import { Card, Empty, ErrorNote } from '../components/card';
import { CurrencyPicker, MetricTable } from '../components/metrictable';
import { type MetricValue, query, type QueryBody, type QueryResult, rows } from '../lib/api';
import { useAsync } from '../lib/async';
import { number, numeric } from '../lib/format';
import { markReady } from '../lib/ready';
import type { View } from '../lib/view';

type Row = Record<string, MetricValue | string>;
type Asked = { body: QueryBody; result?: QueryResult }[];

const SEGMENT_METRICS = ['customers', 'customer_net_revenue', 'predicted_clv_12m', 'churn_risk'];
const CHURN_METRICS = ['churn_risk', 'customer_orders', 'customer_net_revenue', 'predicted_clv_12m', 'days_since_last_order'];
const PAGE = 20;
const SCORES = [1, 2, 3, 4, 5];

export interface Snapshot {
  queries: Asked;
  currencies: string[];
}

/** Asks the query API and keeps each question with its answer (for the ready mark and tests). */
export function asker(queries: Asked) {
  return async (b: QueryBody): Promise<QueryResult> => {
    const entry: Asked[number] = { body: b };
    queries.push(entry);
    entry.result = await query(b);
    return entry.result;
  };
}

/** A commerce snapshot query: every customer, product or pair as of the last run ("all"). */
export function snapshotBody(view: View, parts: Omit<QueryBody, 'site_id' | 'date_range'>): QueryBody {
  return { site_id: view.site.site_id || view.site.domain, date_range: 'all', ...parts };
}

interface CustomersData extends Snapshot {
  currency: string;
  segments: Row[];
  grid: Map<string, { customers: number; segment: string }>;
  churn: Row[];
  churnTotal: number;
}

async function loadCustomers(view: View, wanted: string, page: number): Promise<CustomersData> {
  const queries: Asked = [];
  const ask = asker(queries);
  const byCurrency = snapshotBody(view, { metrics: ['customers'], dimensions: ['customer:currency'], order_by: [['customers', 'desc']] });
  const currencies = rows(await ask(byCurrency), byCurrency).map((r) => String(r['customer:currency']));
  const currency = currencies.includes(wanted) ? wanted : (currencies[0] ?? '');
  if (!currency) return { queries, currencies, currency, segments: [], grid: new Map(), churn: [], churnTotal: 0 };
  const only = [['is', 'customer:currency', [currency]]];
  const segmentsBody = snapshotBody(view, { metrics: SEGMENT_METRICS, dimensions: ['customer:segment'], filters: only, order_by: [['customers', 'desc']] });
  const gridBody = snapshotBody(view, {
    metrics: ['customers'],
    dimensions: ['customer:recency_score', 'customer:fm_score', 'customer:segment'],
    filters: only,
    pagination: { limit: 100 },
  });
  const churnBody = snapshotBody(view, {
    metrics: CHURN_METRICS,
    dimensions: ['customer:id', 'customer:segment'],
    filters: [...only, ['is_not', 'customer:churn_band', ['unknown']]],
    order_by: [
      ['churn_risk', 'desc'],
      ['customer_net_revenue', 'desc'],
    ],
    include: { total_rows: true },
    pagination: { limit: PAGE, offset: page * PAGE },
  });
  const [segments, grid, churn] = await Promise.all([ask(segmentsBody), ask(gridBody), ask(churnBody)]);
  const cells = new Map<string, { customers: number; segment: string }>();
  for (const r of grid.results) {
    cells.set(`${r.dimensions[0]}:${r.dimensions[1]}`, { customers: numeric(r.metrics[0]) ?? 0, segment: r.dimensions[2] });
  }
  return {
    queries,
    currencies,
    currency,
    segments: rows(segments, segmentsBody),
    grid: cells,
    churn: rows(churn, churnBody),
    churnTotal: Number(churn.meta.total_rows ?? churn.results.length),
  };
}

export function Customers({ view }: { view: View }) {
  const [currency, setCurrency] = useState('');
  const [page, setPage] = useState(0);
  const key = JSON.stringify([view.site.site_id, currency, page]);
  const loaded = useAsync(() => loadCustomers(view, currency, page), key);
  useEffect(() => {
    if (loaded.data) markReady('customers', loaded.data.queries);
  }, [loaded.version]);
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  const data = loaded.data;
  const busy = loaded.loading;
  if (data && !data.currencies.length) {
    return (
      <div class="commerce">
        <Card title="Customers" wide testid="customers-empty">
          <Empty>
            No customer profiles yet. They are computed hourly from every order source (webhooks, syncs, the payments API); <code>touchline commerce run</code> computes
            them now.
          </Empty>
        </Card>
      </div>
    );
  }
  const shown = data?.currency ?? '';
  const top = Math.max(1, ...[...(data?.grid.values() ?? [])].map((c) => c.customers));
  const pages = data ? Math.ceil(data.churnTotal / PAGE) : 0;
  return (
    <div class="commerce" data-state={busy ? 'loading' : 'ready'}>
      <div class="commerce-head">
        <CurrencyPicker
          currencies={data?.currencies ?? []}
          value={shown}
          onChange={(c) => {
            setCurrency(c);
            setPage(0);
          }}
        />
      </div>
      <Card title={`Segments${shown ? ` (${shown})` : ''}`} wide busy={busy} testid="segments">
        {data ? (
          <BarList
            caption="RFM segments: customers, net revenue, predicted 12-month value and mean churn risk"
            nameHeader="Segment"
            rows={data.segments.map((r) => ({ name: String(r['customer:segment']), values: r }))}
            metrics={SEGMENT_METRICS}
            testid="list-segments"
          />
        ) : (
          <div class="placeholder" />
        )}
      </Card>
      <Card title="RFM grid" busy={busy} testid="rfm-grid">
        <div class="table-scroll" tabIndex={0} role="region" aria-label="RFM grid">
          <table class="rfm" data-testid="rfm-table">
            <caption class="sr-only">Customers by recency score (rows) and frequency-monetary score (columns); each cell belongs to one segment</caption>
            <thead>
              <tr>
                <th scope="col">Recency ↓ / FM →</th>
                {SCORES.map((fm) => (
                  <th scope="col" class="num">
                    {fm}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {[...SCORES].reverse().map((r) => (
                <tr>
                  <th scope="row">{r}</th>
                  {SCORES.map((fm) => {
                    const cell = data?.grid.get(`${r}:${fm}`);
                    const n = cell?.customers ?? 0;
                    return (
                      <td
                        class="num"
                        data-r={r}
                        data-fm={fm}
                        data-count={n}
                        title={cell ? `${cell.segment}: ${number(n)} customers` : 'no customers'}
                        style={{ '--share': String(n / top) }}
                      >
                        <span class="rfm-count">{number(n)}</span>
                        {cell && <span class="rfm-segment">{cell.segment}</span>}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted">R: how recently they bought; FM: how often and how much (1 lowest, 5 highest, quintiles within the site).</p>
      </Card>
      <Card title="Churn risk" busy={busy} testid="churn">
        {data && !data.churn.length ? (
          <Empty>No churn risk yet: the model is fitted once a currency has at least 50 customers, 10 of whom came back (docs/commerce.md).</Empty>
        ) : (
          <MetricTable
            testid="churn-table"
            caption="Customers most likely to have stopped buying"
            nameHeader="Customer"
            name={(r) => String(r['customer:id'])}
            text={[{ header: 'Segment', value: (r) => String(r['customer:segment']) }]}
            metrics={CHURN_METRICS}
            rows={data?.churn ?? []}
            scroll="Customers by churn risk"
          />
        )}
        {pages > 1 && (
          <nav class="pager" aria-label="Churn risk pages">
            <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
              Previous
            </button>
            <span>
              Page {page + 1} of {pages}
            </span>
            <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
              Next
            </button>
          </nav>
        )}
      </Card>
    </div>
  );
}
