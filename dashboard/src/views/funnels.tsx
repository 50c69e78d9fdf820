// Funnels: a site's funnels (GET /api/v1/funnels), one computed for the period and filters
// (GET /api/v1/funnels/{id}: visitors per step, conversion, drop-off, median time between steps),
// a bar per step with the drop-off between, an optional breakdown, and for those who may edit
// goals a form to define one (POST /api/v1/funnels) and a button to delete the one shown
// (DELETE /api/v1/funnels/{id}). docs/goals-funnels.md.
import { useEffect, useState } from 'preact/hooks';
import { Card, Empty, ErrorNote } from '../components/card';
import { dateRange, request } from '../lib/api';
import { useAsync } from '../lib/async';
import { number } from '../lib/format';
import { markReady } from '../lib/ready';
import { can, type View } from '../lib/view';

interface FunnelDef {
  id: string;
  name: string;
  steps: Record<string, string>[];
  window_hours: number;
  strict: boolean;
}

interface StepFigures {
  step: number;
  label: string;
  visitors: number;
  conversion_rate: number;
  conversion_rate_step: number;
  dropoff: number;
  dropoff_rate: number;
  median_seconds_from_previous: number | null;
}

interface FunnelReport {
  funnel: FunnelDef;
  entered: number;
  completed: number;
  conversion_rate: number;
  steps: StepFigures[];
  breakdown: string | null;
  breakdown_rows: { value: string; steps: StepFigures[] }[];
}

const BREAKDOWNS: [string, string][] = [
  ['', 'No breakdown'],
  ['visit:source', 'Source'],
  ['visit:channel', 'Channel'],
  ['visit:utm_campaign', 'Campaign'],
  ['visit:device', 'Device'],
  ['visit:country_name', 'Country'],
  ['visit:entry_page', 'Entry page'],
];

export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

function Steps({ steps, caption }: { steps: StepFigures[]; caption: string }) {
  const top = Math.max(1, ...steps.map((s) => s.visitors));
  return (
    <ol class="funnel-steps" aria-label={caption} data-testid="funnel-steps">
      {steps.map((s, i) => (
        <li data-step={s.step} data-visitors={s.visitors}>
          {i > 0 && (
            <p class="funnel-drop" data-testid="funnel-dropoff">
              <span aria-hidden="true">↓</span> {number(s.dropoff)} dropped off ({s.dropoff_rate.toFixed(2)}%)
              {s.median_seconds_from_previous !== null && <span class="muted"> · median {duration(s.median_seconds_from_previous)}</span>}
            </p>
          )}
          <div class="funnel-row">
            <span class="funnel-label">
              {s.step}. {s.label}
            </span>
            <span class="funnel-track">
              <span class="funnel-bar" style={{ width: `${(s.visitors / top) * 100}%` }} />
            </span>
            <span class="num">
              {number(s.visitors)} <span class="muted">({s.conversion_rate.toFixed(2)}%)</span>
            </span>
          </div>
        </li>
      ))}
    </ol>
  );
}

export function Funnels({ view }: { view: View }) {
  const [version, setVersion] = useState(0);
  const site = encodeURIComponent(view.site.site_id);
  const list = useAsync(() => request<FunnelDef[]>('GET', `/api/v1/funnels?site_id=${site}`), `${view.site.site_id}:${version}`);
  const [chosen, setChosen] = useState('');
  const [breakdown, setBreakdown] = useState('');
  const [deleted, setDeleted] = useState<{ ok: boolean; text: string } | null>(null);
  const current = list.data?.find((f) => f.id === chosen) ?? list.data?.[0];
  const range = dateRange(view.range);
  const params = new URLSearchParams({
    site_id: view.site.site_id,
    date_range: Array.isArray(range) ? range.join(',') : range,
    ...(view.filters.length ? { filters: JSON.stringify(view.filters) } : {}),
    ...(breakdown ? { breakdown } : {}),
  });
  const report = useAsync(
    () => (current ? request<FunnelReport>('GET', `/api/v1/funnels/${encodeURIComponent(current.id)}?${params}`) : Promise.resolve(null)),
    JSON.stringify([current?.id, params.toString()]),
  );
  const remove = async (funnel: FunnelDef) => {
    try {
      await request('DELETE', `/api/v1/funnels/${encodeURIComponent(funnel.id)}?site_id=${site}`);
      setDeleted({ ok: true, text: `Deleted ${funnel.name}.` });
      setChosen('');
      setVersion(version + 1);
    } catch (error) {
      setDeleted({ ok: false, text: error instanceof Error ? error.message : String(error) });
    }
  };
  useEffect(() => {
    // Ready once the figures on screen are the chosen funnel's (or there is no funnel).
    if (list.loading || report.loading || list.error) return;
    if (current && report.data?.funnel.id !== current.id && !report.error) return;
    markReady('funnels', []);
  }, [list.version, report.version, report.loading]);
  return (
    <div class="funnels" data-state={list.loading || report.loading ? 'loading' : 'ready'}>
      <Card title="Funnel" wide busy={report.loading} testid="card-funnel">
        {list.error && <ErrorNote error={list.error} />}
        {list.data && !list.data.length && <Empty>No funnels yet{can(view, 'goals:write') ? ': define one below.' : '.'}</Empty>}
        {current && (
          <div class="toolbar">
            <label>
              Funnel{' '}
              <select name="funnel" class="inline-select" value={current.id} onChange={(e) => setChosen(e.currentTarget.value)}>
                {list.data!.map((f) => (
                  <option value={f.id}>{f.name}</option>
                ))}
              </select>
            </label>
            <label>
              Breakdown{' '}
              <select name="breakdown" class="inline-select" value={breakdown} onChange={(e) => setBreakdown(e.currentTarget.value)}>
                {BREAKDOWNS.map(([id, label]) => (
                  <option value={id}>{label}</option>
                ))}
              </select>
            </label>
            <span class="muted">
              {current.window_hours} h window, {current.strict ? 'strict order' : 'other pages allowed between steps'}
            </span>
            {can(view, 'goals:write') && (
              <button type="button" class="link danger" aria-label={`Delete funnel ${current.name}`} onClick={() => remove(current)}>
                Delete funnel
              </button>
            )}
          </div>
        )}
        {deleted && (
          <p class={deleted.ok ? 'ok' : 'error'} role={deleted.ok ? 'status' : 'alert'} data-testid="funnel-message">
            {deleted.text}
          </p>
        )}
        {report.error && <ErrorNote error={report.error} />}
        {report.data && (
          <>
            <p class="facts" data-testid="funnel-conversion">
              <strong>{report.data.conversion_rate.toFixed(2)}%</strong> converted: {number(report.data.completed)} of {number(report.data.entered)} visitors who
              entered
            </p>
            {report.data.entered === 0 ? <Empty>Nobody entered this funnel in the period.</Empty> : <Steps steps={report.data.steps} caption={report.data.funnel.name} />}
          </>
        )}
      </Card>
      {report.data?.breakdown &&
        report.data.breakdown_rows.map((row) => (
          <Card title={`${BREAKDOWNS.find(([id]) => id === report.data!.breakdown)?.[1] ?? report.data!.breakdown}: ${row.value}`} wide>
            <Steps steps={row.steps} caption={`${report.data!.funnel.name}, ${row.value}`} />
          </Card>
        ))}
      {can(view, 'goals:write') && <DefineFunnel view={view} onDefined={(id) => (setChosen(id), setVersion(version + 1))} />}
    </div>
  );
}

function DefineFunnel({ view, onDefined }: { view: View; onDefined: (id: string) => void }) {
  const [name, setName] = useState('');
  const [steps, setSteps] = useState('');
  const [hours, setHours] = useState('24');
  const [strict, setStrict] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <Card title="Define a funnel" wide>
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const parsed = steps
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean)
            .map((s) => (s.startsWith('/') ? { page: s } : { goal: s.replace(/^goal:/, '') }));
          try {
            const made = await request<FunnelDef>('POST', '/api/v1/funnels', {
              site_id: view.site.site_id,
              name: name.trim(),
              steps: parsed,
              window_hours: Number(hours),
              strict,
            });
            setMessage({ ok: true, text: `Defined ${made.name}.` });
            setName('');
            setSteps('');
            onDefined(made.id);
          } catch (error) {
            setMessage({ ok: false, text: error instanceof Error ? error.message : String(error) });
          }
        }}
      >
        <label>
          Funnel name
          <input name="funnel-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          Steps, one per line: a page pattern (/pricing, /blog/*) or a goal's name (2 to 8)
          <textarea name="funnel-steps" rows={4} value={steps} onInput={(e) => setSteps(e.currentTarget.value)} required />
        </label>
        <label>
          Window (hours, first step to last)
          <input name="funnel-window" inputMode="decimal" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
        </label>
        <label>
          <input type="checkbox" name="funnel-strict" checked={strict} onChange={(e) => setStrict(e.currentTarget.checked)} /> Strict order (no other page or event between steps)
        </label>
        <button type="submit">Define funnel</button>
        {message && (
          <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="form-message">
            {message.text}
          </p>
        )}
      </form>
    </Card>
  );
}
