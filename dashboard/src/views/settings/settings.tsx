// Settings for those allowed: each section needs its own permission, and a person sees only the
// sections they can use (a viewer sees none, so no Settings page at all). Every form sends what
// the management API validates and shows its error message as it is.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Card, Empty, ErrorNote } from '../../components/card';
import { ApiError, request } from '../../lib/api';
import { useAsync } from '../../lib/async';
import { number } from '../../lib/format';
import { href } from '../../lib/route';
import { can, type View } from '../../lib/view';

export interface Section {
  id: string;
  label: string;
  permission: string;
  render: (view: View) => ComponentChildren;
}

export const SECTIONS: Section[] = [
  { id: 'site', label: 'Site', permission: 'sites:write', render: (v) => <SiteForm view={v} /> },
  { id: 'goals', label: 'Goals', permission: 'goals:write', render: (v) => <Goals view={v} /> },
  { id: 'integrations', label: 'Integrations', permission: 'integrations:write', render: (v) => <Integrations view={v} /> },
  { id: 'api-keys', label: 'API keys', permission: 'api_keys:write', render: (v) => <ApiKeys view={v} /> },
  { id: 'members', label: 'Members', permission: 'members:write', render: (v) => <Members view={v} /> },
  { id: 'shared-links', label: 'Shared links', permission: 'shared_links:write', render: (v) => <SharedLinks view={v} /> },
  { id: 'audit', label: 'Audit log', permission: 'audit:read', render: (v) => <Audit view={v} /> },
  { id: 'usage', label: 'Usage', permission: 'usage:read', render: (v) => <Usage view={v} /> },
];

export function Settings({ view }: { view: View }) {
  const sections = SECTIONS.filter((s) => can(view, s.permission));
  const current = sections.find((s) => s.id === view.state.section) ?? sections[0];
  if (!current) return <Empty>Your role has no settings to change.</Empty>;
  return (
    <div class="settings">
      <nav class="settings-nav" aria-label="Settings">
        <ul>
          {sections.map((s) => (
            <li>
              <a href={href(view.state, { page: 'settings', section: s.id })} aria-current={s.id === current.id ? 'page' : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="settings-body" data-section={current.id}>
        <h1 class="page-title">{current.label}</h1>
        {current.render(view)}
      </div>
    </div>
  );
}

// ------------------------------------------------------------------ shared pieces

function useAction(): [ApiMessage | null, (work: () => Promise<string>) => Promise<boolean>, boolean] {
  const [message, setMessage] = useState<ApiMessage | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ ok: true, text: await work() });
      return true;
    } catch (e) {
      setMessage({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [message, run, busy];
}

interface ApiMessage {
  ok: boolean;
  text: string;
}

function Message({ message }: { message: ApiMessage | null }) {
  if (!message) return null;
  return (
    <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="form-message">
      {message.text}
    </p>
  );
}

function Secret({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret" data-testid="secret">
      <p>
        <strong>{label}</strong> It is shown only now: copy it somewhere safe.
      </p>
      <code>{value}</code>{' '}
      <button type="button" class="link" onClick={() => navigator.clipboard?.writeText(value)}>
        Copy
      </button>
    </div>
  );
}

const site = (view: View) => `/api/v1/sites/${encodeURIComponent(view.site.site_id)}`;
const when = (text: string | null | undefined) => (text ? text.replace('T', ' ').slice(0, 19) : '—');

// ------------------------------------------------------------------ site

function SiteForm({ view }: { view: View }) {
  const s = view.site;
  const [domain, setDomain] = useState(s.domain);
  const [timezone, setTimezone] = useState(s.timezone || 'UTC');
  const [lookback, setLookback] = useState(String(s.lookback_days ?? 30));
  const [halfLife, setHalfLife] = useState(String(s.half_life_days ?? 7));
  const [cookieless, setCookieless] = useState(!!s.cookieless);
  const [message, run, busy] = useAction();
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return (
    <Card title="Site settings" wide>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          run(async () => {
            await request('PATCH', site(view), {
              domain: domain.trim(),
              timezone,
              lookback_days: Number(lookback),
              half_life_days: Number(halfLife),
              cookieless,
            });
            return 'Saved. Attribution changes apply from the next aggregation run.';
          });
        }}
      >
        <label>
          Domain
          <input name="domain" value={domain} onInput={(e) => setDomain(e.currentTarget.value)} required />
        </label>
        <label>
          Time zone
          <input name="timezone" list="time-zones" value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} required />
          <datalist id="time-zones">
            {['UTC', ...zones].map((z) => (
              <option value={z} />
            ))}
          </datalist>
        </label>
        <label>
          Attribution window (days)
          <input name="lookback_days" type="number" value={lookback} onInput={(e) => setLookback(e.currentTarget.value)} required />
        </label>
        <label>
          Time-decay half-life (days)
          <input name="half_life_days" type="number" step="any" value={halfLife} onInput={(e) => setHalfLife(e.currentTarget.value)} required />
        </label>
        <label class="check">
          <input name="cookieless" type="checkbox" checked={cookieless} onChange={(e) => setCookieless(e.currentTarget.checked)} />
          Cookieless (a daily visitor hash instead of a first-party id)
        </label>
        <button type="submit" disabled={busy}>
          Save
        </button>
        <Message message={message} />
      </form>
    </Card>
  );
}

// ------------------------------------------------------------------ goals

interface Goal {
  name: string;
  value: string | null;
  currency: string;
}

function Goals({ view }: { view: View }) {
  const [version, setVersion] = useState(0);
  const goals = useAsync(() => request<Goal[]>('GET', `${site(view)}/goals`), `${view.site.site_id}:${version}`);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [currency, setCurrency] = useState('');
  const [message, run, busy] = useAction();
  const reload = () => setVersion(version + 1);
  return (
    <>
      <Card title="Goals" wide>
        {goals.error && <ErrorNote error={goals.error} />}
        {goals.data && !goals.data.length && <Empty>No goals yet: add one below.</Empty>}
        {goals.data && goals.data.length > 0 && (
          <table class="models" data-testid="goals-table">
            <caption class="sr-only">Goals</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Value
                </th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {goals.data.map((g) => (
                <tr data-name={g.name}>
                  <th scope="row">{g.name}</th>
                  <td class="num">{g.value ? `${g.value} ${g.currency}` : '—'}</td>
                  <td>
                    <button
                      type="button"
                      class="link danger"
                      aria-label={`Remove goal ${g.name}`}
                      onClick={() => run(async () => (await request('DELETE', `${site(view)}/goals/${encodeURIComponent(g.name)}`), reload(), `Removed ${g.name}.`))}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Add a goal" wide>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              await request('POST', `${site(view)}/goals`, {
                name: name.trim(),
                ...(value ? { value, currency: currency.trim().toUpperCase() || undefined } : {}),
              });
              setName('');
              setValue('');
              reload();
              return `Added ${name.trim()}: its events now count as conversions.`;
            });
          }}
        >
          <label>
            Event name
            <input name="goal-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </label>
          <label>
            Value per conversion (optional)
            <input name="goal-value" inputMode="decimal" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
          </label>
          <label>
            Currency (with a value)
            <input name="goal-currency" maxLength={3} value={currency} onInput={(e) => setCurrency(e.currentTarget.value)} placeholder="EUR" />
          </label>
          <button type="submit" disabled={busy}>
            Add goal
          </button>
          <Message message={message} />
        </form>
      </Card>
    </>
  );
}

// ------------------------------------------------------------------ integrations

interface Integration {
  provider: string;
  kind: 'webhook' | 'sync';
  webhook_url?: string | null;
  created_at?: string | null;
  status?: string | null;
  message?: string | null;
  status_at?: string | null;
}

function Integrations({ view }: { view: View }) {
  const [version, setVersion] = useState(0);
  const list = useAsync(() => request<Integration[]>('GET', `${site(view)}/integrations`), `${view.site.site_id}:${version}`);
  const [provider, setProvider] = useState('stripe');
  const [secret, setSecret] = useState('');
  const [message, run, busy] = useAction();
  const [added, setAdded] = useState<Integration | null>(null);
  return (
    <>
      <Card title="Connected" wide>
        {list.error && <ErrorNote error={list.error} />}
        {list.data && !list.data.length && <Empty>Nothing connected yet.</Empty>}
        {list.data && list.data.length > 0 && (
          <table class="models" data-testid="integrations-table">
            <caption class="sr-only">Integrations</caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Kind</th>
                <th scope="col">Webhook URL to paste</th>
                <th scope="col">Sync status</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((i) => (
                <tr data-name={i.provider}>
                  <th scope="row">{i.provider}</th>
                  <td>{i.kind}</td>
                  <td>{i.webhook_url ? <code class="wrap">{i.webhook_url}</code> : '—'}</td>
                  <td>
                    {i.status ?? '—'}
                    {i.status_at && <span class="muted"> ({when(i.status_at)})</span>}
                    {i.message && <span class={`block ${i.status === 'error' ? 'error' : 'muted'}`}>{i.message}</span>}
                  </td>
                  <td>
                    {i.kind === 'webhook' && (
                      <button
                        type="button"
                        class="link danger"
                        aria-label={`Remove ${i.provider}`}
                        onClick={() => run(async () => (await request('DELETE', `${site(view)}/integrations/${i.provider}`), setVersion(version + 1), `Removed ${i.provider}.`))}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="muted">Klaviyo, Shopify Admin, HubSpot and Gorgias syncs are connected with `touchline integrations add` (docs/syncs.md).</p>
      </Card>
      <Card title="Connect a webhook" wide>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              const created = await request<Integration>('POST', `${site(view)}/integrations`, { provider, secret: secret.trim() });
              setAdded(created);
              setSecret('');
              setVersion(version + 1);
              return `Connected ${provider}. Paste the URL below into ${provider === 'stripe' ? 'Stripe → Developers → Webhooks' : 'Shopify → Settings → Notifications → Webhooks'}.`;
            });
          }}
        >
          <label>
            Provider
            <select name="provider" value={provider} onChange={(e) => setProvider(e.currentTarget.value)}>
              <option value="stripe">Stripe</option>
              <option value="shopify">Shopify</option>
            </select>
          </label>
          <label>
            Signing secret
            <input name="secret" type="password" autoComplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} required placeholder={provider === 'stripe' ? 'whsec_…' : 'app secret'} />
          </label>
          <button type="submit" disabled={busy}>
            Connect
          </button>
          <Message message={message} />
          {added?.webhook_url && (
            <p>
              Webhook URL: <code class="wrap" data-testid="webhook-url">{added.webhook_url}</code>
            </p>
          )}
        </form>
      </Card>
    </>
  );
}

// ------------------------------------------------------------------ API keys

interface ApiKey {
  key_id: string;
  prefix: string;
  name: string;
  scopes: string[];
  /** null: every site of the organisation (account-wide). */
  site_ids: string[] | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rate_limit: number;
}

// Keys belong to the organisation (GET/POST/DELETE /api/v1/orgs/{org}/api-keys): this page lists
// the ones that can read this site, and makes keys for this site or for every site.
function ApiKeys({ view }: { view: View }) {
  const [version, setVersion] = useState(0);
  const org = view.site.org_id ?? '';
  const base = `/api/v1/orgs/${encodeURIComponent(org)}/api-keys`;
  const keys = useAsync(() => request<ApiKey[]>('GET', base), `${org}:${version}`);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [everySite, setEverySite] = useState(false);
  const [created, setCreated] = useState('');
  const [message, run, busy] = useAction();
  const mine = (keys.data ?? []).filter((k) => !k.revoked_at && (k.site_ids === null || k.site_ids.includes(view.site.site_id)));
  return (
    <>
      <Card title="API keys that read this site" wide>
        {keys.error && <ErrorNote error={keys.error} />}
        {keys.data && !mine.length && <Empty>No keys yet.</Empty>}
        {mine.length > 0 && (
          <table class="models" data-testid="keys-table">
            <caption class="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Sites</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {mine.map((k) => (
                <tr data-name={k.name}>
                  <th scope="row">{k.name || '—'}</th>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.site_ids === null ? 'every site' : k.site_ids.length === 1 ? 'this site' : `${k.site_ids.length} sites`}</td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>{k.expires_at ? when(k.expires_at) : 'never'}</td>
                  <td>
                    <button
                      type="button"
                      class="link danger"
                      aria-label={`Revoke key ${k.name || k.prefix}`}
                      onClick={() => run(async () => (await request('DELETE', `${base}/${encodeURIComponent(k.key_id)}`), setVersion(version + 1), `Revoked ${k.name || k.prefix}.`))}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Create a key" wide>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              const r = await request<{ key: string }>('POST', base, {
                name: name.trim(),
                site_ids: everySite ? null : [view.site.site_id],
                scopes: ['stats:read'],
                ...(days ? { expires_days: Number(days) } : {}),
              });
              setCreated(r.key);
              setName('');
              setVersion(version + 1);
              return `Created a stats:read key for ${everySite ? 'every site of the organisation' : 'this site'}: send it as Authorization: Bearer to /api/v2/query.`;
            });
          }}
        >
          <label>
            Name
            <input name="key-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </label>
          <label>
            Expires after (days, optional)
            <input name="key-days" type="number" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
          </label>
          <label class="check">
            <input name="key-every-site" type="checkbox" checked={everySite} onChange={(e) => setEverySite(e.currentTarget.checked)} />
            Every site of the organisation, including later ones
          </label>
          <button type="submit" disabled={busy}>
            Create key
          </button>
          <Message message={message} />
          {created && <Secret label="Your new key." value={created} />}
        </form>
      </Card>
    </>
  );
}

// ------------------------------------------------------------------ members

interface Member {
  user_id: string;
  email: string;
  role: string;
  site_ids: string[] | null;
  created_at: string;
}

const ROLES = ['owner', 'admin', 'editor', 'viewer', 'billing'];

function Members({ view }: { view: View }) {
  const org = view.site.org_id ?? '';
  const base = `/api/v1/orgs/${encodeURIComponent(org)}/members`;
  const [version, setVersion] = useState(0);
  const members = useAsync(() => request<Member[]>('GET', base), `${org}:${version}`);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [temporary, setTemporary] = useState('');
  const [message, run, busy] = useAction();
  return (
    <>
      <Card title="Members of this organisation" wide>
        {members.error && <ErrorNote error={members.error} />}
        {members.data && (
          <table class="models" data-testid="members-table">
            <caption class="sr-only">Members and roles</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Sites</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr data-name={m.email}>
                  <th scope="row">{m.email}</th>
                  <td>
                    <select
                      aria-label={`Role of ${m.email}`}
                      value={m.role}
                      onChange={(e) => {
                        const next = e.currentTarget.value;
                        run(async () => (await request('PATCH', `${base}/${encodeURIComponent(m.user_id)}`, { role: next }), setVersion(version + 1), `${m.email} is now ${next}.`));
                      }}
                    >
                      {ROLES.map((r) => (
                        <option value={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td>{m.site_ids ? m.site_ids.length : 'all'}</td>
                  <td>
                    <button
                      type="button"
                      class="link danger"
                      aria-label={`Remove ${m.email}`}
                      onClick={() => run(async () => (await request('DELETE', `${base}/${encodeURIComponent(m.user_id)}`), setVersion(version + 1), `Removed ${m.email}.`))}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Message message={message} />
      </Card>
      <Card title="Invite someone" wide>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              const r = await request<Member & { new_user: boolean; temporary_password?: string | null }>('POST', base, { email: email.trim(), role });
              setTemporary(r.temporary_password ?? '');
              setEmail('');
              setVersion(version + 1);
              return r.new_user ? `Invited ${r.email}: Cognito sends them a temporary password.` : `Added ${r.email} as ${r.role}.`;
            });
          }}
        >
          <label>
            Email
            <input name="invite-email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
          </label>
          <label>
            Role
            <select name="invite-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {ROLES.map((r) => (
                <option value={r}>{r}</option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={busy}>
            Invite
          </button>
          {temporary && <Secret label="Temporary password (local stack only; in AWS Cognito emails it)." value={temporary} />}
        </form>
      </Card>
    </>
  );
}

// ------------------------------------------------------------------ shared links

interface SharedLink {
  link_id: string;
  name: string;
  password_protected: boolean;
  created_at: string;
  revoked: boolean;
}

function SharedLinks({ view }: { view: View }) {
  const base = `${site(view)}/shared-links`;
  const [version, setVersion] = useState(0);
  const links = useAsync(() => request<SharedLink[]>('GET', base), `${view.site.site_id}:${version}`);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState('');
  const [message, run, busy] = useAction();
  return (
    <>
      <Card title="Shared links" wide>
        {links.error && <ErrorNote error={links.error} />}
        {links.data && !links.data.filter((l) => !l.revoked).length && <Empty>No shared links.</Empty>}
        {links.data && links.data.some((l) => !l.revoked) && (
          <table class="models" data-testid="links-table">
            <caption class="sr-only">Shared links</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Password</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {links.data
                .filter((l) => !l.revoked)
                .map((l) => (
                  <tr data-name={l.name}>
                    <th scope="row">{l.name || l.link_id}</th>
                    <td>{l.password_protected ? 'yes' : 'no'}</td>
                    <td>{when(l.created_at)}</td>
                    <td>
                      <button
                        type="button"
                        class="link danger"
                        aria-label={`Revoke link ${l.name || l.link_id}`}
                        onClick={() => run(async () => (await request('DELETE', `${base}/${l.link_id}`), setVersion(version + 1), 'Revoked: the link stops working within a minute.'))}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Create a shared link" wide>
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              const r = await request<{ link: string }>('POST', base, { name: name.trim(), ...(password ? { password } : {}) });
              setCreated(`${location.origin}/share/${encodeURIComponent(r.link)}`);
              setName('');
              setPassword('');
              setVersion(version + 1);
              return 'Anyone with the link sees this site read-only; embed it with <iframe src="…">.';
            });
          }}
        >
          <label>
            Name
            <input name="link-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Password (optional, 8+ characters)
            <input name="link-password" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy}>
            Create link
          </button>
          <Message message={message} />
          {created && <Secret label="The link." value={created} />}
        </form>
      </Card>
    </>
  );
}

// ------------------------------------------------------------------ audit, usage

interface AuditEntry {
  audit_id: string;
  at: string;
  actor_email: string;
  actor_id: string;
  action: string;
  outcome: string;
  target_type: string;
  target_id: string;
  source_ip: string;
}

function Audit({ view }: { view: View }) {
  const org = view.site.org_id ?? '';
  const log = useAsync(() => request<{ entries: AuditEntry[] }>('GET', `/api/v1/audit?org_id=${encodeURIComponent(org)}&limit=200`), org);
  return (
    <Card title="Audit log (newest first)" wide>
      {log.error && <ErrorNote error={log.error} />}
      {log.data && !log.data.entries.length && <Empty>Nothing recorded yet.</Empty>}
      {log.data && log.data.entries.length > 0 && (
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Scrollable table">
          <table class="models" data-testid="audit-table">
            <caption class="sr-only">Audit log</caption>
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Target</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {log.data.entries.map((e) => (
                <tr>
                  <td>{when(e.at)}</td>
                  <td>{e.actor_email || e.actor_id}</td>
                  <td>{e.action}</td>
                  <td class={e.outcome === 'denied' ? 'error' : ''}>{e.outcome}</td>
                  <td>{e.target_type ? `${e.target_type} ${e.target_id}` : '—'}</td>
                  <td>{e.source_ip}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

interface UsageOut {
  month: string;
  events: number;
  limit: number | null;
  over_limit: boolean;
  share_of_limit: number | null;
  by_site: Record<string, number>;
}

function Usage({ view }: { view: View }) {
  const org = view.site.org_id ?? '';
  const usage = useAsync(() => request<UsageOut>('GET', `/api/v1/usage?org_id=${encodeURIComponent(org)}`), org);
  const u = usage.data;
  return (
    <Card title="Events stored this month" wide>
      {usage.error && <ErrorNote error={usage.error} />}
      {u && (
        <dl class="facts" data-testid="usage">
          <dt>Month</dt>
          <dd>{u.month}</dd>
          <dt>Events</dt>
          <dd data-testid="usage-events">{number(u.events)}</dd>
          <dt>Monthly limit</dt>
          <dd>{u.limit === null ? 'none' : `${number(u.limit)}${u.over_limit ? ' (over: data is kept, this is a warning)' : ''}`}</dd>
          {Object.entries(u.by_site).map(([id, n]) => (
            <>
              <dt>{id === view.site.site_id ? view.site.domain : id}</dt>
              <dd>{number(n)}</dd>
            </>
          ))}
        </dl>
      )}
    </Card>
  );
}
