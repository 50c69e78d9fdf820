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
