// Registering a site (POST /api/v1/sites) in one of the organisations where the person may add
// sites: the first thing a new owner does, so it is in the shell (the "no sites yet" page) as well
// as in settings. On success the shell reloads the sites and opens the new one.
import { useState } from 'preact/hooks';
import { ApiError, request } from '../lib/api';
import { navigate } from '../lib/route';
import { sitesChanged } from '../lib/sites';

export interface Organisation {
  org_id: string;
  name: string;
  permissions: string[];
}

interface Created {
  site_id: string;
  domain: string;
}

/** The organisations this person may add a site to. */
export function writableOrgs(orgs: Organisation[] | undefined): Organisation[] {
  return (orgs ?? []).filter((o) => o.permissions.includes('sites:write'));
}

export function AddSiteForm({ orgs }: { orgs: Organisation[] }) {
  const [org, setOrg] = useState(orgs[0]?.org_id ?? '');
  const [domain, setDomain] = useState('');
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  if (!orgs.length) return null;
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const site = await request<Created>('POST', '/api/v1/sites', { org_id: org, domain: domain.trim(), timezone: timezone.trim() || undefined });
      await sitesChanged();
      navigate(`/${encodeURIComponent(site.domain)}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} data-testid="add-site">
      {orgs.length > 1 && (
        <label>
          Organisation
          <select name="org_id" value={org} onChange={(e) => setOrg(e.currentTarget.value)}>
            {orgs.map((o) => (
              <option value={o.org_id}>{o.name}</option>
            ))}
          </select>
        </label>
      )}
      <label>
        Domain
        <input name="domain" placeholder="shop.example.com" value={domain} onInput={(e) => setDomain(e.currentTarget.value)} required />
      </label>
      <label>
        Time zone
        <input name="timezone" value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Add site
      </button>
      {error && (
        <p class="error" role="alert" data-testid="form-message">
          {error}
        </p>
      )}
    </form>
  );
}
