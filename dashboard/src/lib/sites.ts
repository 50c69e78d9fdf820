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
