// Settings for those allowed: each section needs its own permission, and a person sees only the
// sections they can use (a viewer sees none, so no Settings page at all). Every form sends what
// the management API validates and shows its error message as it is.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { AddSiteForm } from '../../components/addsite';
import { Card, Empty, ErrorNote } from '../../components/card';
import { request } from '../../lib/api';
import { useAsync } from '../../lib/async';
import { number } from '../../lib/format';
import { href, navigate } from '../../lib/route';
import { sitesChanged } from '../../lib/sites';
import { can, type View } from '../../lib/view';
import { ActionForm, Field, ListCard, Message, RowAction, Secret, useAction, useList } from './parts';

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
  { id: 'annotations', label: 'Annotations', permission: 'annotations:write', render: (v) => <Annotations view={v} /> },
  { id: 'webhooks', label: 'Webhooks', permission: 'webhooks:write', render: (v) => <Webhooks view={v} /> },
  { id: 'audit', label: 'Audit log', permission: 'audit:read', render: (v) => <Audit view={v} /> },
  { id: 'usage', label: 'Usage', permission: 'usage:read', render: (v) => <Usage view={v} /> },
  { id: 'new-site', label: 'Add a site', permission: 'sites:write', render: (v) => <NewSite view={v} /> },
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
  const action = useAction();
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const save = async () => {
    const saved = await request<{ domain: string }>('PATCH', site(view), {
      domain: domain.trim(),
      timezone,
      lookback_days: Number(lookback),
      half_life_days: Number(halfLife),
      cookieless,
    });
    await sitesChanged(); // every page reads the shell's copy of the site
    if (saved.domain !== view.site.domain) navigate(href(view.state, { site: saved.domain }), true);
    return 'Saved. Attribution changes apply from the next aggregation run.';
  };
  return (
    <ActionForm title="Site settings" submit="Save" onSubmit={save} action={action}>
      <Field label="Domain" name="domain" value={domain} set={setDomain} required />
      <Field label="Time zone" name="timezone" list="time-zones" value={timezone} set={setTimezone} required />
      <datalist id="time-zones">
        {['UTC', ...zones].map((z) => (
          <option value={z} />
        ))}
      </datalist>
      <Field label="Attribution window (days)" name="lookback_days" type="number" value={lookback} set={setLookback} required />
      <Field label="Time-decay half-life (days)" name="half_life_days" type="number" step="any" value={halfLife} set={setHalfLife} required />
      <label class="check">
        <input name="cookieless" type="checkbox" checked={cookieless} onChange={(e) => setCookieless(e.currentTarget.checked)} />
        Cookieless (a daily visitor hash instead of a first-party id)
      </label>
    </ActionForm>
  );
}

function NewSite({ view }: { view: View }) {
  const org = { org_id: view.site.org_id ?? '', name: '', permissions: ['sites:write'] };
  return (
    <Card title="Add a site to this organisation" wide>
      <AddSiteForm orgs={[org]} />
    </Card>
  );
}

// ------------------------------------------------------------------ goals

interface Goal {
  id: string;
  name: string;
  track_method: 'javascript' | 'data_attribute' | 'page_url';
  event_name: string | null;
  page_pattern: string | null;
  properties: Record<string, string>;
  value: string | null;
  currency: string;
  active: boolean;
}

const TRIGGERS: [Goal['track_method'], string][] = [
  ['javascript', 'Custom event (JavaScript)'],
  ['data_attribute', 'Custom event (data attribute)'],
  ['page_url', 'Page visit (path pattern)'],
];

/** `plan=pro, size=xl` as the API's property matches. */
function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[,\n]/)) {
    const [key, ...rest] = part.split('=');
    if (key.trim()) out[key.trim()] = rest.join('=').trim();
  }
  return out;
}

function trigger(g: Goal): string {
  const props = Object.entries(g.properties).map(([k, v]) => `${k}=${v}`);
  const base = g.track_method === 'page_url' ? `page ${g.page_pattern}` : `event ${g.event_name ?? g.name}`;
  return props.length ? `${base} (${props.join(', ')})` : base;
}

/** The form's text for a stored goal (what editing starts from). */
function goalForm(g: Goal | null) {
  return {
    name: g?.name ?? '',
    method: g?.track_method ?? ('javascript' as Goal['track_method']),
    pattern: g?.page_pattern ?? '',
    event: g && g.track_method !== 'page_url' ? (g.event_name ?? g.name) : '',
    properties: g ? Object.entries(g.properties).map(([k, v]) => `${k}=${v}`).join(', ') : '',
    value: g?.value ?? '',
    currency: g?.currency ?? '',
  };
}

function Goals({ view }: { view: View }) {
  const [goals, reload] = useList<Goal[]>(`${site(view)}/goals`, view.site.site_id);
  // The goal being edited (the form below edits it instead of adding one), or null.
  const [editing, setEditing] = useState<Goal | null>(null);
  const [name, setName] = useState('');
  const [method, setMethod] = useState<Goal['track_method']>('javascript');
  const [pattern, setPattern] = useState('');
  const [event, setEvent] = useState('');
  const [properties, setProperties] = useState('');
  const [value, setValue] = useState('');
  const [currency, setCurrency] = useState('');
  const action = useAction();
  const path = (g: Goal) => `${site(view)}/goals/${encodeURIComponent(g.name)}`;
  const fill = (g: Goal | null) => {
    const f = goalForm(g);
    setEditing(g);
    setName(f.name);
    setMethod(f.method);
    setPattern(f.pattern);
    setEvent(f.event);
    setProperties(f.properties);
    setValue(f.value);
    setCurrency(f.currency);
  };
  const page = method === 'page_url';
  const money = () => (value ? { value, currency: currency.trim().toUpperCase() || undefined } : {});
  const add = async () => {
    const props = parseProperties(properties);
    await request('POST', `${site(view)}/goals`, {
      name: name.trim(),
      track_method: method,
      ...(page ? { page_pattern: pattern.trim() } : {}),
      ...(Object.keys(props).length ? { properties: props } : {}),
      ...money(),
    });
    fill(null);
    reload();
    return page ? `Added ${name.trim()}: visits of ${pattern.trim()} now count as conversions.` : `Added ${name.trim()}: its events now count as conversions.`;
  };
  const save = async () => {
    if (!editing) return add();
    // Every field is sent: what the form shows is the goal (an emptied value removes it).
    await request('PATCH', path(editing), {
      name: name.trim(),
      track_method: method,
      ...(page ? { page_pattern: pattern.trim() } : { event_name: event.trim() || name.trim() }),
      properties: parseProperties(properties),
      ...(value ? money() : { value: null }),
    });
    fill(null);
    reload();
    return `Saved ${name.trim()}: past data is re-read with it.`;
  };
  return (
    <>
      <ListCard
        title="Goals"
        testid="goals-table"
        caption="Goals"
        columns={['Name', 'Completed by', 'Value', 'Status']}
        loaded={goals}
        empty="No goals yet: add one below."
        row={(g) => (
          <tr data-name={g.name} data-active={g.active ? 'true' : 'false'}>
            <th scope="row">{g.name}</th>
            <td>{trigger(g)}</td>
            <td class="num">{g.value ? `${g.value} ${g.currency}` : '—'}</td>
            <td>
              <button
                type="button"
                class="link"
                aria-label={`${g.active ? 'Pause' : 'Resume'} goal ${g.name}`}
                onClick={() => action[1](async () => (await request('PATCH', path(g), { active: !g.active }), reload(), `${g.name} ${g.active ? 'paused' : 'active again'}.`))}
              >
                {g.active ? 'Active' : 'Paused'}
              </button>
            </td>
            <td>
              <button type="button" class="link" aria-label={`Edit goal ${g.name}`} onClick={() => fill(g)}>
                Edit
              </button>
            </td>
            <RowAction label={`Remove goal ${g.name}`} text="Remove" run={action[1]} work={async () => (await request('DELETE', path(g)), reload(), `Removed ${g.name}.`)} />
          </tr>
        )}
      >
        <p class="muted">Goals are read from the events each time: a change applies to all past data too.</p>
      </ListCard>
      <ActionForm
        title={editing ? `Edit goal ${editing.name}` : 'Add a goal'}
        submit={editing ? 'Save goal' : 'Add goal'}
        onSubmit={save}
        action={action}
        after={
          editing && (
            <button type="button" class="link" onClick={() => fill(null)}>
              Cancel editing
            </button>
          )
        }
      >
        <label>
          Completed by
          <select name="goal-method" value={method} onChange={(e) => setMethod(e.currentTarget.value as Goal['track_method'])}>
            {TRIGGERS.map(([id, label]) => (
              <option value={id}>{label}</option>
            ))}
          </select>
        </label>
        <Field label={page || editing ? 'Goal name' : 'Event name'} name="goal-name" value={name} set={setName} required />
        {page && (
          <Field label="Page pattern (* within a segment, ** across: /blog/*, /docs/**)" name="goal-pattern" value={pattern} set={setPattern} placeholder="/thank-you" required />
        )}
        {!page && editing && <Field label="Event name" name="goal-event" value={event} set={setEvent} placeholder={name} />}
        <Field label="Property matches (optional: plan=pro, size=xl)" name="goal-properties" value={properties} set={setProperties} />
        <Field label="Value per conversion (optional)" name="goal-value" inputMode="decimal" value={value} set={setValue} />
        <Field label="Currency (with a value)" name="goal-currency" maxLength={3} value={currency} set={setCurrency} placeholder="EUR" />
      </ActionForm>
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
  const [list, reload] = useList<Integration[]>(`${site(view)}/integrations`, view.site.site_id);
  const [provider, setProvider] = useState('stripe');
  const [secret, setSecret] = useState('');
  const action = useAction();
  const [added, setAdded] = useState<Integration | null>(null);
  const connect = async () => {
    const created = await request<Integration>('POST', `${site(view)}/integrations`, { provider, secret: secret.trim() });
    setAdded(created);
    setSecret('');
    reload();
    return `Connected ${provider}. Paste the URL below into ${provider === 'stripe' ? 'Stripe → Developers → Webhooks' : 'Shopify → Settings → Notifications → Webhooks'}.`;
  };
  return (
    <>
      <ListCard
        title="Connected"
        testid="integrations-table"
        caption="Integrations"
        columns={['Provider', 'Kind', 'Webhook URL to paste', 'Sync status']}
        loaded={list}
        empty="Nothing connected yet."
        row={(i) => (
          <tr data-name={i.provider}>
            <th scope="row">{i.provider}</th>
            <td>{i.kind}</td>
            <td>{i.webhook_url ? <code class="wrap">{i.webhook_url}</code> : '—'}</td>
            <td>
              {i.status ?? '—'}
              {i.status_at && <span class="muted"> ({when(i.status_at)})</span>}
              {i.message && <span class={`block ${i.status === 'error' ? 'error' : 'muted'}`}>{i.message}</span>}
            </td>
            {i.kind === 'webhook' ? (
              <RowAction
                label={`Remove ${i.provider}`}
                text="Remove"
                run={action[1]}
                work={async () => (await request('DELETE', `${site(view)}/integrations/${i.provider}`), reload(), `Removed ${i.provider}.`)}
              />
            ) : (
              <td />
            )}
          </tr>
        )}
      >
        <p class="muted">Klaviyo, Shopify Admin, HubSpot and Gorgias syncs are connected with `touchline integrations add` (docs/syncs.md).</p>
      </ListCard>
      <ActionForm
        title="Connect a webhook"
        submit="Connect"
        onSubmit={connect}
        action={action}
        after={
          added?.webhook_url && (
            <p>
              Webhook URL: <code class="wrap" data-testid="webhook-url">{added.webhook_url}</code>
            </p>
          )
        }
      >
        <label>
          Provider
          <select name="provider" value={provider} onChange={(e) => setProvider(e.currentTarget.value)}>
            <option value="stripe">Stripe</option>
            <option value="shopify">Shopify</option>
          </select>
        </label>
        <Field
          label="Signing secret"
          name="secret"
          type="password"
          autoComplete="off"
          value={secret}
          set={setSecret}
          required
          placeholder={provider === 'stripe' ? 'whsec_…' : 'app secret'}
        />
      </ActionForm>
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
  const org = view.site.org_id ?? '';
  const base = `/api/v1/orgs/${encodeURIComponent(org)}/api-keys`;
  const [keys, reload] = useList<ApiKey[]>(base, org);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [everySite, setEverySite] = useState(false);
  const [created, setCreated] = useState('');
  const action = useAction();
  const create = async () => {
    const r = await request<{ key: string }>('POST', base, {
      name: name.trim(),
      site_ids: everySite ? null : [view.site.site_id],
      scopes: ['stats:read'],
      ...(days ? { expires_days: Number(days) } : {}),
    });
    setCreated(r.key);
    setName('');
    reload();
    return `Created a stats:read key for ${everySite ? 'every site of the organisation' : 'this site'}: send it as Authorization: Bearer to /api/v2/query.`;
  };
  return (
    <>
      <ListCard
        title="API keys that read this site"
        testid="keys-table"
        caption="API keys"
        columns={['Name', 'Key', 'Sites', 'Scopes', 'Expires']}
        loaded={keys}
        shown={(k) => !k.revoked_at && (k.site_ids === null || k.site_ids.includes(view.site.site_id))}
        empty="No keys yet."
        row={(k) => (
          <tr data-name={k.name}>
            <th scope="row">{k.name || '—'}</th>
            <td>
              <code>{k.prefix}…</code>
            </td>
            <td>{k.site_ids === null ? 'every site' : k.site_ids.length === 1 ? 'this site' : `${k.site_ids.length} sites`}</td>
            <td>{k.scopes.join(', ')}</td>
            <td>{k.expires_at ? when(k.expires_at) : 'never'}</td>
            <RowAction
              label={`Revoke key ${k.name || k.prefix}`}
              text="Revoke"
              run={action[1]}
              work={async () => (await request('DELETE', `${base}/${encodeURIComponent(k.key_id)}`), reload(), `Revoked ${k.name || k.prefix}.`)}
            />
          </tr>
        )}
      />
      <ActionForm title="Create a key" submit="Create key" onSubmit={create} action={action} after={created && <Secret label="Your new key." value={created} />}>
        <Field label="Name" name="key-name" value={name} set={setName} required />
        <Field label="Expires after (days, optional)" name="key-days" type="number" value={days} set={setDays} />
        <label class="check">
          <input name="key-every-site" type="checkbox" checked={everySite} onChange={(e) => setEverySite(e.currentTarget.checked)} />
          Every site of the organisation, including later ones
        </label>
      </ActionForm>
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

function RoleSelect({ label, value, onChange, name }: { label?: string; value: string; onChange: (role: string) => void; name?: string }) {
  return (
    <select aria-label={label} name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      {ROLES.map((r) => (
        <option value={r}>{r}</option>
      ))}
    </select>
  );
}

function Members({ view }: { view: View }) {
  const org = view.site.org_id ?? '';
  const base = `/api/v1/orgs/${encodeURIComponent(org)}/members`;
  const [members, reload] = useList<Member[]>(base, org);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [temporary, setTemporary] = useState('');
  const changes = useAction(); // the table's: roles and removals
  const invite = useAction();
  const [message, run] = changes;
  const send = async () => {
    const r = await request<Member & { new_user: boolean; temporary_password?: string | null }>('POST', base, { email: email.trim(), role });
    setTemporary(r.temporary_password ?? '');
    setEmail('');
    reload();
    return r.new_user ? `Invited ${r.email}: Cognito sends them a temporary password.` : `Added ${r.email} as ${r.role}.`;
  };
  return (
    <>
      <ListCard
        title="Members of this organisation"
        testid="members-table"
        caption="Members and roles"
        columns={['Email', 'Role', 'Sites']}
        loaded={members}
        row={(m) => (
          <tr data-name={m.email}>
            <th scope="row">{m.email}</th>
            <td>
              <RoleSelect
                label={`Role of ${m.email}`}
                value={m.role}
                onChange={(next) => run(async () => (await request('PATCH', `${base}/${encodeURIComponent(m.user_id)}`, { role: next }), reload(), `${m.email} is now ${next}.`))}
              />
            </td>
            <td>{m.site_ids ? m.site_ids.length : 'all'}</td>
            <RowAction
              label={`Remove ${m.email}`}
              text="Remove"
              run={run}
              work={async () => (await request('DELETE', `${base}/${encodeURIComponent(m.user_id)}`), reload(), `Removed ${m.email}.`)}
            />
          </tr>
        )}
      >
        <Message message={message} />
      </ListCard>
      <ActionForm
        title="Invite someone"
        submit="Invite"
        onSubmit={send}
        action={invite}
        after={temporary && <Secret label="Temporary password (local stack only; in AWS Cognito emails it)." value={temporary} />}
      >
        <Field label="Email" name="invite-email" type="email" value={email} set={setEmail} required />
        <label>
          Role
          <RoleSelect name="invite-role" value={role} onChange={setRole} />
        </label>
      </ActionForm>
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
  const [links, reload] = useList<SharedLink[]>(base, view.site.site_id);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState('');
  const action = useAction();
  const create = async () => {
    const r = await request<{ link: string }>('POST', base, { name: name.trim(), ...(password ? { password } : {}) });
    setCreated(`${location.origin}/share/${encodeURIComponent(r.link)}`);
    setName('');
    setPassword('');
    reload();
    return 'Anyone with the link sees this site read-only; embed it with <iframe src="…">.';
  };
  return (
    <>
      <ListCard
        title="Shared links"
        testid="links-table"
        caption="Shared links"
        columns={['Name', 'Password', 'Created']}
        loaded={links}
        shown={(l) => !l.revoked}
        empty="No shared links."
        row={(l) => (
          <tr data-name={l.name}>
            <th scope="row">{l.name || l.link_id}</th>
            <td>{l.password_protected ? 'yes' : 'no'}</td>
            <td>{when(l.created_at)}</td>
            <RowAction
              label={`Revoke link ${l.name || l.link_id}`}
              text="Revoke"
              run={action[1]}
              work={async () => (await request('DELETE', `${base}/${l.link_id}`), reload(), 'Revoked: the link stops working within a minute.')}
            />
          </tr>
        )}
      />
      <ActionForm title="Create a shared link" submit="Create link" onSubmit={create} action={action} after={created && <Secret label="The link." value={created} />}>
        <Field label="Name" name="link-name" value={name} set={setName} />
        <Field label="Password (optional, 8+ characters)" name="link-password" type="password" autoComplete="new-password" value={password} set={setPassword} />
      </ActionForm>
    </>
  );
}

// ------------------------------------------------------------------ annotations

interface Annotation {
  id: string;
  date: string;
  content: string;
  tags: string[];
  created_by: string;
}

function Annotations({ view }: { view: View }) {
  const [notes, reload] = useList<Annotation[]>(`/api/v1/annotations?site_id=${encodeURIComponent(view.site.site_id)}`, view.site.site_id);
  const [day, setDay] = useState(new Date().toISOString().slice(0, 10));
  const [content, setContent] = useState('');
  const [tags, setTags] = useState('');
  const action = useAction();
  const add = async () => {
    const list = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    await request('POST', '/api/v1/annotations', { site_id: view.site.site_id, date: day, content: content.trim(), tags: list });
    setContent('');
    setTags('');
    reload();
    return 'Added: it shows on the overview chart for that day.';
  };
  return (
    <>
      <ListCard
        title="Annotations"
        testid="annotations-table"
        caption="Annotations"
        columns={['Date', 'Note', 'Tags']}
        loaded={notes}
        empty="No annotations: they are drawn on the overview's chart."
        row={(n) => (
          <tr data-id={n.id}>
            <th scope="row">{n.date}</th>
            <td>{n.content}</td>
            <td>{n.tags.join(', ')}</td>
            <RowAction label={`Delete the note of ${n.date}`} text="Delete" run={action[1]} work={async () => (await request('DELETE', `/api/v1/annotations/${n.id}`), reload(), 'Deleted.')} />
          </tr>
        )}
      />
      <ActionForm title="Add an annotation" submit="Add annotation" onSubmit={add} action={action}>
        <label>
          Date
          <input name="note-date" type="date" required value={day} onInput={(e) => setDay(e.currentTarget.value)} />
        </label>
        <Field label="Note" name="note-content" value={content} set={setContent} required maxLength={2000} />
        <Field label="Tags (comma separated)" name="note-tags" value={tags} set={setTags} />
      </ActionForm>
    </>
  );
}

// ------------------------------------------------------------------ outgoing webhooks

const WEBHOOK_EVENTS = ['purchase.created', 'purchase.refunded', 'goal.completed', 'visitor.identified', 'attribution.updated'];

interface Webhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  disabled_reason: string;
  failure_count: number;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string;
}

interface Delivery {
  delivery_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  attempted_at: string;
  outcome: string;
  http_status: number;
  error: string;
  duration_ms: number;
}

function Webhooks({ view }: { view: View }) {
  const [hooks, reload] = useList<Webhook[]>(`/api/v1/webhooks?site_id=${encodeURIComponent(view.site.site_id)}`, view.site.site_id);
  const [shown, setShown] = useState('');
  const [round, setRound] = useState(0);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['purchase.created']);
  const [secret, setSecret] = useState('');
  const rows = useAction();
  const form = useAction();
  const act = (work: () => Promise<string>) => rows[1](async () => {
    const text = await work();
    reload();
    setRound((n) => n + 1);
    return text;
  });
  const add = async () => {
    const r = await request<{ secret: string }>('POST', '/api/v1/webhooks', { site_id: view.site.site_id, url: url.trim(), events });
    setSecret(r.secret);
    setUrl('');
    reload();
    return "Added. Verify each request's Touchline-Signature with the secret below (docs/webhooks.md).";
  };
  return (
    <>
      <ListCard
        title="Webhooks"
        testid="webhooks-table"
        caption="Webhooks"
        columns={['URL', 'Events', 'State', 'Last attempt']}
        loaded={hooks}
        empty="No webhooks. Add one below: it is told of purchases, refunds, identified visitors and attribution changes (docs/webhooks.md)."
        row={(w) => (
          <tr data-id={w.id}>
            <th scope="row">{w.url}</th>
            <td>{w.events.join(', ')}</td>
            <td>{w.active ? (w.failure_count ? `active, ${w.failure_count} failures in a row` : 'active') : `paused: ${w.disabled_reason}`}</td>
            <td>
              {when(w.last_attempt_at)} {w.last_status ? `(${w.last_status})` : ''} {w.last_error}
            </td>
            <td class="actions">
              <button type="button" class="link" onClick={() => act(async () => (await request('POST', `/api/v1/webhooks/${w.id}/test`), setShown(w.id), 'Test event queued: it shows in the deliveries below within seconds.'))}>
                Send test event
              </button>{' '}
              <button type="button" class="link" onClick={() => act(async () => (await request('PATCH', `/api/v1/webhooks/${w.id}`, { active: !w.active }), w.active ? 'Paused.' : 'Resumed: redrive the dead-letter queue for what waited.'))}>
                {w.active ? 'Pause' : 'Resume'}
              </button>{' '}
              <button type="button" class="link" onClick={() => setShown(w.id)}>
                Deliveries
              </button>{' '}
              <button type="button" class="link danger" aria-label={`Delete the webhook to ${w.url}`} onClick={() => act(async () => (await request('DELETE', `/api/v1/webhooks/${w.id}`), 'Deleted.'))}>
                Delete
              </button>
            </td>
          </tr>
        )}
      >
        <Message message={rows[0]} />
      </ListCard>
      {shown && <Deliveries id={shown} round={round} />}
      <ActionForm title="Add a webhook" submit="Add webhook" onSubmit={add} action={form} after={secret && <Secret label="The signing secret." value={secret} />}>
        <Field label="URL (https)" name="webhook-url" value={url} set={setUrl} required />
        <fieldset>
          <legend>Events</legend>
          {WEBHOOK_EVENTS.map((name) => (
            <label class="inline">
              <input type="checkbox" name="webhook-event" value={name} checked={events.includes(name)} onChange={(e) => setEvents(e.currentTarget.checked ? [...events, name] : events.filter((x) => x !== name))} /> {name}
            </label>
          ))}
        </fieldset>
      </ActionForm>
    </>
  );
}

/** A webhook's last attempts, newest first (read again after each action on it). */
function Deliveries({ id, round }: { id: string; round: number }) {
  const [log, reload] = useList<Delivery[]>(`/api/v1/webhooks/${id}/deliveries?limit=20`, `${id}:${round}`);
  return (
    <ListCard
      title="Last deliveries"
      testid="webhook-deliveries"
      caption="Delivery attempts, newest first"
      columns={['When', 'Event', 'Attempt', 'Outcome', 'Status', 'Error']}
      loaded={log}
      empty="No attempts yet (the log fills within seconds of each attempt)."
      row={(d) => (
        <tr data-outcome={d.outcome}>
          <th scope="row">{when(d.attempted_at)}</th>
          <td>
            {d.event_type} <code>{d.event_id}</code>
          </td>
          <td>{d.attempt}</td>
          <td>{d.outcome}</td>
          <td>{d.http_status || '—'}</td>
          <td>{d.error}</td>
          <td />
        </tr>
      )}
    >
      <button type="button" class="link" onClick={reload}>
        Refresh
      </button>
    </ListCard>
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
