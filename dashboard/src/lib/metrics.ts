// What each metric and dimension is called on screen, and how its values are written.
import type { Kind } from './format';

export interface MetricInfo {
  label: string;
  kind: Kind;
  /** True where a fall is good news (bounce rate). */
  lowerIsBetter?: boolean;
}

export const METRICS: Record<string, MetricInfo> = {
  visitors: { label: 'Unique visitors', kind: 'count' },
  visits: { label: 'Total visits', kind: 'count' },
  pageviews: { label: 'Total pageviews', kind: 'count' },
  views_per_visit: { label: 'Views per visit', kind: 'decimal' },
  bounce_rate: { label: 'Bounce rate', kind: 'percent', lowerIsBetter: true },
  visit_duration: { label: 'Visit duration', kind: 'duration' },
  events: { label: 'Total conversions', kind: 'count' },
  conversion_rate: { label: 'Conversion rate', kind: 'percent' },
  net_revenue: { label: 'Net revenue', kind: 'money' },
  gross_revenue: { label: 'Gross revenue', kind: 'money' },
  refunds: { label: 'Refunds', kind: 'money' },
  orders: { label: 'Orders', kind: 'count' },
  total_revenue: { label: 'Revenue', kind: 'money' },
  average_revenue: { label: 'Average revenue', kind: 'money' },
  linked_order_share: { label: 'Linked orders', kind: 'share' },
  path_conversions: { label: 'Conversions', kind: 'count' },
  path_revenue: { label: 'Net revenue', kind: 'money' },
  percentage: { label: '%', kind: 'percent' },
  // commerce views (docs/commerce.md): snapshots of the last commerce run
  customers: { label: 'Customers', kind: 'count' },
  customer_orders: { label: 'Orders', kind: 'count' },
  customer_net_revenue: { label: 'Net revenue', kind: 'money' },
  customer_refunds: { label: 'Refunds', kind: 'money' },
  avg_order_value: { label: 'Average order', kind: 'money' },
  predicted_clv_12m: { label: 'Predicted 12-month value', kind: 'money' },
  predicted_purchases_90d: { label: 'Predicted orders (90 days)', kind: 'decimal' },
  churn_risk: { label: 'Churn risk', kind: 'share', lowerIsBetter: true },
  days_since_last_order: { label: 'Days since last order', kind: 'count' },
  products: { label: 'Products', kind: 'count' },
  product_revenue_30d: { label: 'Revenue (30 days)', kind: 'money' },
  product_revenue_90d: { label: 'Revenue (90 days)', kind: 'money' },
  product_revenue_total: { label: 'Revenue (all time)', kind: 'money' },
  product_quantity_30d: { label: 'Units (30 days)', kind: 'count' },
  product_quantity_90d: { label: 'Units (90 days)', kind: 'count' },
  product_customers_30d: { label: 'Customers (30 days)', kind: 'count' },
  product_conversion_rate: { label: 'Conversion', kind: 'share' },
  product_repurchase_rate: { label: 'Repurchase rate', kind: 'share' },
  product_velocity: { label: 'Units per day', kind: 'decimal' },
  sales_revenue: { label: 'Revenue', kind: 'money' },
  sales_units: { label: 'Units', kind: 'count' },
  sales_orders: { label: 'Orders', kind: 'count' },
  co_purchases: { label: 'Bought together', kind: 'count' },
  basket_support: { label: 'Support', kind: 'share' },
  basket_confidence: { label: 'Confidence', kind: 'share' },
  basket_lift: { label: 'Lift', kind: 'decimal' },
};

export const DIMENSIONS: Record<string, string> = {
  'visit:source': 'Source',
  'visit:referrer': 'Referrer',
  'visit:channel': 'Channel',
  'visit:utm_medium': 'UTM medium',
  'visit:utm_source': 'UTM source',
  'visit:utm_campaign': 'UTM campaign',
  'visit:utm_content': 'UTM content',
  'visit:utm_term': 'UTM term',
  'event:page': 'Page',
  'visit:entry_page': 'Entry page',
  'visit:exit_page': 'Exit page',
  'visit:country': 'Country',
  'visit:region': 'Region',
  'visit:city': 'City',
  'visit:device': 'Device',
  'visit:browser': 'Browser',
  'visit:os': 'Operating system',
  'event:goal': 'Goal',
  'event:hostname': 'Hostname',
};

export function dimensionLabel(dim: string): string {
  return DIMENSIONS[dim] ?? dim.replace(/^(visit|event):(props:)?/, '');
}
