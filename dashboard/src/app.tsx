// The shell: who is asking (a signed-in person or a shared link), which site, which page; the
// header with the site switcher, the navigation and the period; then the page itself.
import type { FunctionComponent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DatePicker } from './components/datepicker';
import { FilterChips } from './components/filters';
import { AddSiteForm, type Organisation, writableOrgs } from './components/addsite';
import { ErrorNote } from './components/card';
import { ApiError, request, setCredentials } from './lib/api';
import { useAsync } from './lib/async';
import { href, navigate, onLinkClick, useRoute, type ViewState } from './lib/route';
import { keep, kept, onSitesChanged } from './lib/sites';
import { authConfig, hasSession, idToken, openSharedLink, renewSession, signedInEmail, signOut } from './lib/session';
import { type Access, makeView, type Site, type View, ViewContext } from './lib/view';
import { PAGES, type PageSpec } from './pages';
import { SignIn } from './views/signin';

interface Me {
  user_id: string;
  email: string;
  organisations: (Organisation & { role: string; site_ids: string[] | null })[];
}

interface Context {
  sites: Site[];
  me: Me | null;
}

export function App() {
  const state = useRoute();
  useEffect(() => {
    document.addEventListener('click', onLinkClick);
    return () => document.removeEventListener('click', onLinkClick);
  }, []);
  if (state.share) return <Shared state={state} />;
  return <Signed state={state} />;
}

function Signed({ state }: { state: ViewState }) {
  const [session, setSession] = useState(hasSession());
  // Set while rendering, not in an effect: the children's effects (which send requests) run first.
  useMemo(() => {
    setCredentials(
      async (): Promise<Record<string, string>> => {
        const token = await idToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      () => {
        signOut();
        setSession(false);
      },
      '/api/v1/query',
      renewSession,
    );
  }, []);
  const config = useAsync(authConfig, 'config');
  if (!session || state.page === 'sign-in') {
    if (config.loading) return <Splash />;
    return (
      <SignIn
        config={config.data ?? null}
        configError={config.error}
        onSignedIn={() => {
          setSession(true);
          if (state.page === 'sign-in') navigate('/', true);
        }}
      />
    );
  }
  return <SignedIn state={state} />;
}

function SignedIn({ state }: { state: ViewState }) {
  // Loaded again when a form changes the sites (lib/sites.ts); those waiting are told once the
  // new list is in.
  const [generation, setGeneration] = useState(0);
  const waiting = useRef<(() => void)[]>([]);
  // What this tab was last told (lib/sites.ts) draws the page at once, so its queries leave
  // with the sites and the person's lookups rather than after them; the answer replaces it.
  const [earlier] = useState(() => kept<Context>(signedInEmail()));
  const context = useAsync<Context>(async () => {
    const [sites, me] = await Promise.all([request<Site[]>('GET', '/api/v1/sites'), request<Me>('GET', '/api/v1/me').catch(() => null)]);
    keep(signedInEmail(), { sites, me });
    return { sites, me };
  }, `context:${generation}`);
  useEffect(
    () =>
      onSitesChanged(
        () =>
          new Promise<void>((resolve) => {
            waiting.current.push(resolve);
            setGeneration((g) => g + 1);
          }),
      ),
    [],
  );
  useEffect(() => {
    if (!context.loading) waiting.current.splice(0).forEach((resolve) => resolve());
  }, [context.version, context.loading]);
  const known = context.data ?? earlier;
  if (context.loading && !known) return <Splash />;
  if (context.error) return <Fatal error={context.error} />;
  const { sites, me } = known!;
  const site = sites.find((s) => s.domain === state.site || s.site_id === state.site);
  if (!state.site || !site) {
    if (sites.length && !state.site) {
      navigate(href(state, { site: sites[0].domain, page: 'overview' }), true);
      return <Splash />;
    }
    return <NoSite sites={sites} wanted={state.site} email={me?.email ?? signedInEmail()} orgs={writableOrgs(me?.organisations)} />;
  }
  const org = me?.organisations.find((o) => o.org_id === site.org_id);
  const access: Access = { shared: false, permissions: new Set(org?.permissions ?? ['stats:read']) };
  return <Dashboard state={state} site={{ ...site, timezone: site.timezone || 'UTC' }} sites={sites} access={access} email={me?.email ?? signedInEmail()} />;
}

function Shared({ state }: { state: ViewState }) {
  const [password, setPassword] = useState('');
  const [attempt, setAttempt] = useState(0);
  const opened = useAsync(() => openSharedLink(state.share, password || undefined), `${state.share}:${attempt}`);
  useMemo(() => {
    const token = opened.data?.token;
    setCredentials(async (): Promise<Record<string, string>> => (token ? { authorization: `Bearer ${token}` } : {}), () => {}, '/api/v2/query');
  }, [opened.data?.token]);
  if (opened.loading && !opened.data) return <Splash />;
  if (opened.error) {
    const needsPassword = opened.error instanceof ApiError && (opened.error.status === 401 || opened.error.status === 403);
    if (!needsPassword) return <Fatal error={opened.error} />;
    return (
      <main class="signin" id="main">
        <form
          class="signin-card"
          onSubmit={(e) => {
            e.preventDefault();
            setAttempt(attempt + 1);
          }}
        >
          <h1>This dashboard is protected</h1>
          {attempt > 0 && <ErrorNote error={opened.error} />}
          <label>
            Password
            <input type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          </label>
          <button type="submit">Open</button>
        </form>
      </main>
    );
  }
  const s = opened.data!;
  const site: Site = { site_id: s.site_id, domain: s.domain, timezone: s.timezone || 'UTC' };
  return <Dashboard state={state} site={site} sites={[site]} access={{ shared: true, permissions: new Set(['stats:read']) }} email="" />;
}

interface DashboardProps {
  state: ViewState;
  site: Site;
  sites: Site[];
  access: Access;
  email: string;
}

function visible(page: PageSpec, access: Access): boolean {
  if (access.shared) return page.shared;
  return !page.permissions || page.permissions.some((p) => access.permissions.has(p));
}

function Dashboard({ state, site, sites, access, email }: DashboardProps) {
  const view = useMemo(() => makeView(state, site, access), [state, site, access]);
  const pages = PAGES.filter((p) => visible(p, access));
  const page = pages.find((p) => p.id === state.page);
  const embedded = access.shared && window.self !== window.top;
  useEffect(() => {
    document.title = `${page?.label ?? 'Not found'} · ${site.domain} · Touchline`;
  }, [page, site.domain]);
  return (
    <ViewContext.Provider value={view}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class={`top${embedded ? ' embedded' : ''}`}>
        <div class="brand-row">
          <a class="brand" href={href(state, { page: 'overview', section: '' })} aria-label="Touchline overview">
            <svg viewBox="0 0 32 32" aria-hidden="true" width="22" height="22">
              <rect width="32" height="32" rx="7" class="brand-bg" />
              <path d="M7 22 L13 14 L18 18 L25 9" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round" />
            </svg>
            <span>Touchline</span>
          </a>
          <SiteSwitcher state={state} site={site} sites={sites} locked={access.shared} />
          <span class="spacer" />
          {!access.shared && <Account email={email} />}
        </div>
        <nav aria-label="Pages">
          <ul>
            {pages.map((p) => (
              <li>
                <a href={href(state, { page: p.id, section: '' })} aria-current={p.id === state.page ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page?.dated && (
          <div class="toolbar">
            <h1 class="page-title">
              {page.label}
              <span class="muted tz"> · {site.timezone}</span>
            </h1>
            <DatePicker view={view} />
          </div>
        )}
        {page?.dated && <FilterChips view={view} />}
        {page ? <Page spec={page} view={view} /> : <p class="empty">This page does not exist or is not available to you.</p>}
      </main>
    </ViewContext.Provider>
  );
}

function Page({ spec, view }: { spec: PageSpec; view: View }) {
  const [component, setComponent] = useState<{ id: string; C: FunctionComponent<{ view: View }> } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (spec.loaded) return;
    let live = true;
    spec.load().then(
      (C) => live && setComponent({ id: spec.id, C }),
      (e: Error) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [spec.id]);
  // The overview, in the initial bundle, draws in this render: its queries leave in its first effects.
  if (spec.loaded) return <spec.loaded view={view} />;
  if (error) return <ErrorNote error={error} />;
  if (!component || component.id !== spec.id) return <div class="placeholder page-placeholder" />;
  const C = component.C;
  return <C view={view} />;
}

function SiteSwitcher({ state, site, sites, locked }: { state: ViewState; site: Site; sites: Site[]; locked: boolean }) {
  if (locked || sites.length < 2) return <span class="site-name">{site.domain}</span>;
  return (
    <label class="site-switcher">
      <span class="sr-only">Site</span>
      <select value={site.domain} onChange={(e) => navigate(href(state, { site: e.currentTarget.value, filters: [] }))}>
        {sites.map((s) => (
          <option value={s.domain}>{s.domain}</option>
        ))}
      </select>
    </label>
  );
}

function Account({ email }: { email: string }) {
  return (
    <div class="account">
      <span class="muted email">{email}</span>
      <button
        type="button"
        class="link"
        onClick={() => {
          signOut();
          location.assign('/sign-in');
        }}
      >
        Sign out
      </button>
    </div>
  );
}

function NoSite({ sites, wanted, email, orgs }: { sites: Site[]; wanted: string; email: string; orgs: Organisation[] }) {
  return (
    <main class="signin" id="main">
      <div class="signin-card">
        <h1>{wanted ? `No site ${wanted}` : 'No sites yet'}</h1>
        <p>
          {wanted
            ? `${email || 'You'} cannot see ${wanted}, or it does not exist.`
            : orgs.length
              ? 'Add your first site: the domain its pages are served from, and the time zone its days are counted in.'
              : 'Ask an admin of your organisation to add a site or to give you access to one.'}
        </p>
        {sites.length > 0 && (
          <ul>
            {sites.map((s) => (
              <li>
                <a href={`/${encodeURIComponent(s.domain)}`}>{s.domain}</a>
              </li>
            ))}
          </ul>
        )}
        {!wanted && <AddSiteForm orgs={orgs} />}
      </div>
    </main>
  );
}

function Splash() {
  return <div class="splash" aria-busy="true" aria-label="Loading" />;
}

function Fatal({ error }: { error: Error }) {
  return (
    <main class="signin" id="main">
      <div class="signin-card">
        <h1>Something went wrong</h1>
        <ErrorNote error={error} />
        <button type="button" onClick={() => location.reload()}>
          Retry
        </button>
      </div>
    </main>
  );
}
