// The signed-in person's sites are loaded once by the shell (GET /api/v1/sites); a form that
// changes them (a new site, a site's settings, the attribution window) says so here, and the
// shell loads them again, so every page shows what the API now keeps without a reload. The
// promise settles once the sites are reloaded (then a new site can be opened).
type Listener = () => Promise<void>;
const listeners = new Set<Listener>();

export async function sitesChanged(): Promise<void> {
  await Promise.all([...listeners].map((listener) => listener()));
}

export function onSitesChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

// The last answer is kept for the browser tab (sessionStorage, per signed-in person), so a reload
// or a new page of the same tab draws at once and sends its queries without waiting for the
// sites and the person again; the shell still asks, and what the API answers replaces it.
const KEPT = 'tl.context';

export function kept<T>(email: string): T | undefined {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEPT) ?? 'null') as { email: string; value: T } | null;
    return stored && email && stored.email === email ? stored.value : undefined;
  } catch {
    return undefined;
  }
}

export function keep<T>(email: string, value: T): void {
  try {
    sessionStorage.setItem(KEPT, JSON.stringify({ email, value }));
  } catch {
    /* no storage: every load asks */
  }
}

export function forget(): void {
  try {
    sessionStorage.removeItem(KEPT);
  } catch {
    /* nothing kept */
  }
}
