// Realtime: visitors in the last 5 minutes, their pages, sources and countries, and the last 30
// minutes minute by minute — read from the raw events (GET /api/v1/realtime), so as fresh as
// the loader (docs/realtime.md). The page asks again every REFRESH_MS while it is open and
// visible, and says how old its answer is.
import { useEffect, useState } from 'preact/hooks';
import { BarList } from '../components/barlist';
import { Card, ErrorNote } from '../components/card';
import { Chart } from '../components/chart';
import { realtime, type RealtimeResult } from '../lib/api';
import { markReady } from '../lib/ready';
import type { View } from '../lib/view';

export const REFRESH_MS = 5_000;

function minuteLabel(iso: string, timezone: string): string {
  try {
    return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: timezone || 'UTC' });
  } catch {
    return iso.slice(11, 16);
  }
}

export function Realtime({ view }: { view: View }) {
  const [data, setData] = useState<RealtimeResult | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [rounds, setRounds] = useState(0);
  const site = view.site.site_id || view.site.domain;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (document.visibilityState !== 'hidden') {
        try {
          const answer = await realtime(site);
          if (stopped) return;
          setData(answer);
          setError(null);
        } catch (e) {
          if (stopped) return;
          setError(e as Error);
        }
        setRounds((n) => n + 1);
      }
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [site]);
  useEffect(() => {
    if (data) markReady('realtime', []);
  }, [rounds]);
  if (error && !data) return <ErrorNote error={error} />;
  const labels = data?.minutes.map((m) => minuteLabel(m.minute, view.site.timezone)) ?? [];
  return (
    <div class="realtime" data-state={data ? 'ready' : 'loading'} data-testid="realtime">
      <section class="card wide">
        <p class="realtime-now">
          <span class="pulse" aria-hidden="true" />
          <strong data-testid="realtime-visitors">{data ? data.visitors : '…'}</strong>{' '}
          {data?.visitors === 1 ? 'current visitor' : 'current visitors'}
          <span class="muted"> — in the last {data?.active_minutes ?? 5} minutes; refreshes every {REFRESH_MS / 1000} s</span>
        </p>
        {error && <ErrorNote error={error} />}
        {data && (
          <Chart
            labels={labels}
            series={[
              { label: 'Visitors', values: data.minutes.map((m) => m.visitors) },
              { label: 'Pageviews', values: data.minutes.map((m) => m.pageviews), dashed: true },
            ]}
            height={200}
            ariaLabel="Visitors and pageviews per minute, last 30 minutes"
            testid="realtime-chart"
          />
        )}
        {data && (
          <p class="muted small" data-testid="realtime-as-of">
            As of {minuteLabel(data.as_of, view.site.timezone)}
            {data.newest_stored_at ? `; newest event stored ${new Date(data.newest_stored_at).toLocaleTimeString('en-GB', { timeZone: view.site.timezone || 'UTC' })}` : ''}
          </p>
        )}
      </section>
      <div class="grid">
        <Card title="Current pages" busy={!data} testid="realtime-pages">
          <BarList caption="Current pages" nameHeader="Page" metrics={['visitors']} rows={(data?.pages ?? []).map((p) => ({ name: p.page, values: { visitors: p.visitors } }))} />
        </Card>
        <Card title="Sources" busy={!data} testid="realtime-sources">
          <BarList caption="Sources" nameHeader="Source" metrics={['visitors']} rows={(data?.sources ?? []).map((p) => ({ name: p.source, values: { visitors: p.visitors } }))} />
        </Card>
        <Card title="Countries" busy={!data} testid="realtime-countries">
          <BarList caption="Countries" nameHeader="Country" metrics={['visitors']} rows={(data?.countries ?? []).map((p) => ({ name: p.country, values: { visitors: p.visitors } }))} />
        </Card>
      </div>
    </div>
  );
}
