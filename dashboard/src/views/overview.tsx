// The overview: top stats with the change against the previous period, the main chart, and the
// breakdown cards (sources, pages, locations, devices, goals). One query round per change.
import { useEffect, useState } from 'preact/hooks';
import { BarList, type ListRow } from '../components/barlist';
import { Card, Empty, ErrorNote, type Tab } from '../components/card';
import { Chart } from '../components/chart';
import { addFilter } from '../components/filters';
import { type Stat, TopStats } from '../components/topstats';
import type { MetricValue } from '../lib/api';
import { useAsync, useStored } from '../lib/async';
import { compact, duration, formatValue, percent } from '../lib/format';
import { dimensionLabel, METRICS } from '../lib/metrics';
import { href, navigate } from '../lib/route';
import { type View } from '../lib/view';
import { compareText, type ListSpec, LIST_LIMIT, loadOverview, MORE_LIMIT, type OverviewData, type Part } from './overview-data';
import { markReady } from '../lib/ready';

type SourceTab = 'channels' | 'sources' | 'utm';
type UtmParam = 'utm_medium' | 'utm_source' | 'utm_campaign' | 'utm_content' | 'utm_term';
type PageTab = 'top' | 'entry' | 'exit';
type LocationTab = 'map' | 'countries' | 'regions' | 'cities';
type DeviceTab = 'devices' | 'browsers' | 'os';

const SOURCE_TABS: Tab<SourceTab>[] = [
  { id: 'channels', label: 'Channels' },
  { id: 'sources', label: 'Sources' },
  { id: 'utm', label: 'Campaigns' },
];
const UTM: { id: UtmParam; label: string }[] = [
  { id: 'utm_campaign', label: 'Campaign' },
  { id: 'utm_source', label: 'Source' },
  { id: 'utm_medium', label: 'Medium' },
  { id: 'utm_content', label: 'Content' },
  { id: 'utm_term', label: 'Term' },
];
const PAGE_TABS: Tab<PageTab>[] = [
  { id: 'top', label: 'Top pages' },
  { id: 'entry', label: 'Entry pages' },
  { id: 'exit', label: 'Exit pages' },
];
const LOCATION_TABS: Tab<LocationTab>[] = [
  { id: 'map', label: 'Map' },
  { id: 'countries', label: 'Countries' },
  { id: 'regions', label: 'Regions' },
  { id: 'cities', label: 'Cities' },
];
const DEVICE_TABS: Tab<DeviceTab>[] = [
  { id: 'devices', label: 'Devices' },
  { id: 'browsers', label: 'Browsers' },
  { id: 'os', label: 'Operating systems' },
];

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : null;
export function countryName(code: string): string {
  if (!code) return '(unknown)';
  try {
    return regionNames?.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export function Overview({ view }: { view: View }) {
  const [sourceTab, setSourceTab] = useStored<SourceTab>('tl.sources', 'channels', ['channels', 'sources', 'utm']);
  const [utm, setUtm] = useStored<UtmParam>('tl.utm', 'utm_campaign', UTM.map((u) => u.id));
  const [pageTab, setPageTab] = useStored<PageTab>('tl.pages', 'top', ['top', 'entry', 'exit']);
  const [locationTab, setLocationTab] = useStored<LocationTab>('tl.locations', 'map', ['map', 'countries', 'regions', 'cities']);
  const [deviceTab, setDeviceTab] = useStored<DeviceTab>('tl.devices', 'devices', ['devices', 'browsers', 'os']);
  const [more, setMore] = useState<Record<string, boolean>>({});
  const limit = (card: string) => (more[card] ? MORE_LIMIT : LIST_LIMIT);

  const lists: Record<string, ListSpec> = {
    sources: {
      dimension: sourceTab === 'channels' ? 'visit:channel' : sourceTab === 'sources' ? 'visit:source' : `visit:${utm}`,
      metrics: ['visitors'],
      limit: limit('sources'),
    },
    pages:
      pageTab === 'top'
        ? { dimension: 'event:page', metrics: ['visitors', 'pageviews'], limit: limit('pages') }
        : { dimension: pageTab === 'entry' ? 'visit:entry_page' : 'visit:exit_page', metrics: ['visitors', 'visits'], limit: limit('pages') },
    locations: {
      dimension: locationTab === 'regions' ? 'visit:region_name' : locationTab === 'cities' ? 'visit:city_name' : 'visit:country',
      metrics: ['visitors'],
      limit: locationTab === 'map' ? 250 : limit('locations'),
    },
    devices: {
      dimension: deviceTab === 'devices' ? 'visit:device' : deviceTab === 'browsers' ? 'visit:browser' : 'visit:os',
      metrics: ['visitors', 'percentage'],
      limit: limit('devices'),
    },
  };
  const key = JSON.stringify([view.site.site_id, view.range, view.previous, view.filters, view.interval, view.state.metric, lists]);
  const loaded = useAsync(() => loadOverview(view, lists), key);
  const data = loaded.data;
  useEffect(() => {
    if (data) markReady('overview', data.queries);
  }, [loaded.version]);

  if (loaded.error) return <ErrorNote error={loaded.error} />;
  const busy = loaded.loading;
  const vs = compareText(view);
  const select = (dim: string) => (row: ListRow) => addFilter(view, dim, row.name);
  const more_ = (card: string, part: Part<unknown[]> | undefined) =>
    part?.value && (part.value.length >= LIST_LIMIT || more[card]) ? (
      <button type="button" class="link more" aria-expanded={!!more[card]} onClick={() => setMore({ ...more, [card]: !more[card] })}>
        {more[card] ? 'Show fewer' : 'Show more'}
      </button>
    ) : null;

  return (
    <div class="overview" data-state={busy ? 'loading' : 'ready'}>
      <section class="card wide main-chart" aria-label="Top stats and chart" aria-busy={busy}>
        <TopStats
          stats={topStats(data, view.state.filters.some((f) => f.dim.startsWith('visit:')))}
          selected={view.state.metric}
          compareLabel={vs}
          onSelect={(metric) => navigate(href(view.state, { metric }), true)}
        />
        <div class="chart-head">
          <h2 class="chart-title">
            {METRICS[view.state.metric]?.label ?? view.state.metric}
            {data?.chart.value?.currency ? ` (${data.chart.value.currency})` : ''}
            {vs && <span class="muted"> — previous period dotted</span>}
          </h2>
          <div class="segmented" role="group" aria-label="Interval">
            {view.intervals.map((i) => (
              <button type="button" aria-pressed={i === view.interval} onClick={() => navigate(href(view.state, { interval: i }), true)}>
                {i === 'hour' ? 'Hours' : i === 'day' ? 'Days' : i === 'week' ? 'Weeks' : 'Months'}
              </button>
            ))}
          </div>
        </div>
        {data?.chart.error ? (
          <ErrorNote error={data.chart.error} />
        ) : data?.chart.value ? (
          <Chart
            labels={data.chart.value.labels}
            series={[
              { label: 'This period', values: data.chart.value.current },
              ...(data.chart.value.previous ? [{ label: 'Previous period', values: data.chart.value.previous, dashed: true }] : []),
            ]}
            marks={data.chart.value.notes.map((n) => ({ index: n.index, date: n.note.date, text: n.note.content, tags: n.note.tags }))}
            format={chartFormat(view.state.metric)}
            ariaLabel={`${METRICS[view.state.metric]?.label ?? view.state.metric} by ${view.interval}`}
            testid="main-chart"
          />
        ) : (
          <div class="chart placeholder" />
        )}
      </section>

      <div class="grid">
        <Card title="Top sources" tabs={SOURCE_TABS} tab={sourceTab} onTab={setSourceTab} busy={busy} testid="card-sources">
          {sourceTab === 'utm' && (
            <label class="inline-select">
              UTM parameter{' '}
              <select value={utm} onChange={(e) => setUtm(e.currentTarget.value as UtmParam)}>
                {UTM.map((u) => (
                  <option value={u.id}>{u.label}</option>
                ))}
              </select>
            </label>
          )}
          <List part={data?.lists.sources} spec={lists.sources} onSelect={select(lists.sources.dimension)} />
          {more_('sources', data?.lists.sources)}
        </Card>
        <Card title="Pages" tabs={PAGE_TABS} tab={pageTab} onTab={setPageTab} busy={busy} testid="card-pages">
          <List part={data?.lists.pages} spec={lists.pages} onSelect={select(lists.pages.dimension)} />
          {more_('pages', data?.lists.pages)}
        </Card>
        <Card title="Locations" tabs={LOCATION_TABS} tab={locationTab} onTab={setLocationTab} busy={busy} testid="card-locations">
          {locationTab === 'map' ? (
            <MapPanel part={data?.lists.locations} onSelect={(code) => addFilter(view, 'visit:country', code)} />
          ) : (
            <>
              <List
                part={data?.lists.locations}
                spec={lists.locations}
                label={locationTab === 'countries' ? countryName : undefined}
                onSelect={select(locationTab === 'countries' ? 'visit:country' : lists.locations.dimension)}
              />
              {more_('locations', data?.lists.locations)}
            </>
          )}
        </Card>
        <Card title="Devices" tabs={DEVICE_TABS} tab={deviceTab} onTab={setDeviceTab} busy={busy} testid="card-devices">
          <List part={data?.lists.devices} spec={lists.devices} onSelect={select(lists.devices.dimension)} />
          {more_('devices', data?.lists.devices)}
        </Card>
        <Card title="Goals" wide busy={busy} testid="card-goals">
          <List
            part={data?.goals}
            spec={{ dimension: 'event:goal', metrics: ['visitors', 'events', 'conversion_rate', 'total_revenue'], limit: MORE_LIMIT }}
            onSelect={select('event:goal')}
            empty={
              <>
                No conversions in this period. Goals are set up in{' '}
                <a href={href(view.state, { page: 'settings', section: 'goals' })}>settings</a>.
              </>
            }
          />
        </Card>
      </div>
    </div>
  );
}

function chartFormat(metric: string): (v: number) => string {
  const kind = METRICS[metric]?.kind;
  if (kind === 'percent') return (v) => percent(Math.round(v * 10) / 10);
  if (kind === 'duration') return duration;
  return compact;
}

/** `visitFiltered`: net revenue is then that of orders whose journey has a matching visit. */
function topStats(data: OverviewData | undefined, visitFiltered: boolean): Stat[] {
  const stats = data?.stats.value ?? {};
  const previous = data?.previousStats.value ?? {};
  const traffic: Stat[] = ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'].map((metric) => ({
    metric,
    value: data?.stats.error ? null : stats[metric],
    previous: previous[metric],
  }));
  const conversion = data?.conversion.value;
  const revenue = data?.revenue.value ?? [];
  const main = revenue[0];
  const before = data?.previousRevenue.value?.find((r) => r.currency === main?.currency);
  return [
    ...traffic,
    {
      metric: 'conversion_rate',
      value: conversion ? conversion.current : data ? (data.conversion.error ? null : 0) : undefined,
      previous: conversion?.previous,
      note: data && !conversion && !data.conversion.error ? 'no goals yet' : undefined,
    },
    {
      metric: 'net_revenue',
      value: main ? main.value : data ? null : undefined,
      previous: before?.value,
      note:
        revenue.length > 1
          ? `+ ${revenue.slice(1).map((r) => formatValue(r.value, 'money')).join(', ')}`
          : data?.revenue.error
            ? 'not available with these filters'
            : visitFiltered && data
              ? 'orders after a matching visit'
              : undefined,
    },
  ];
}

interface ListProps {
  part: Part<Record<string, MetricValue | string>[]> | undefined;
  spec: ListSpec;
  onSelect?: (row: ListRow) => void;
  label?: (name: string) => string;
  empty?: preact.ComponentChildren;
}

function List({ part, spec, onSelect, label, empty }: ListProps) {
  if (!part) return <div class="list placeholder" />;
  if (part.error) return <ErrorNote error={part.error} />;
  const rows = part.value ?? [];
  if (!rows.length) return <Empty>{empty}</Empty>;
  const name = dimensionLabel(spec.dimension);
  return (
    <BarList
      caption={`${name} by ${METRICS[spec.metrics[0]]?.label ?? spec.metrics[0]}`}
      nameHeader={name}
      rows={rows.map((r) => {
        const n = String(r[spec.dimension] ?? '');
        return { name: n, label: label ? label(n) : undefined, values: r };
      })}
      metrics={spec.metrics}
      onSelect={onSelect}
      selectLabel={(row) => `Filter by ${name} ${row.label ?? row.name}`}
      testid={`list-${spec.dimension}`}
    />
  );
}

function MapPanel({ part, onSelect }: { part: Part<Record<string, MetricValue | string>[]> | undefined; onSelect: (code: string) => void }) {
  const [WorldMap, setWorldMap] = useState<typeof import('../components/worldmap').WorldMap | null>(null);
  const [failed, setFailed] = useState<Error | null>(null);
  useEffect(() => {
    import('../components/worldmap').then((m) => setWorldMap(() => m.WorldMap), setFailed);
  }, []);
  if (failed) return <ErrorNote error={failed} />;
  if (part?.error) return <ErrorNote error={part.error} />;
  const visitors = new Map((part?.value ?? []).map((r) => [String(r['visit:country']).toUpperCase(), Number(r.visitors) || 0]));
  return WorldMap ? <WorldMap visitors={visitors} names={countryName} onSelect={onSelect} /> : <div class="map placeholder" />;
}
