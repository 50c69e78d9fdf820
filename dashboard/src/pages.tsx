// The dashboard's pages, in navigation order. A later page (funnels, realtime, customers,
// products) is one entry here: its id is its path segment, `load` imports its view on demand
// (so it costs the initial bundle nothing), and `permissions` hide it from people without it.
import type { FunctionComponent } from 'preact';
import type { View } from './lib/view';
import { Overview } from './views/overview';

export interface PageSpec {
  id: string;
  label: string;
  load: () => Promise<FunctionComponent<{ view: View }>>;
  /** The view itself when it is in the initial bundle: drawn in the first render, no import. */
  loaded?: FunctionComponent<{ view: View }>;
  /** Any one of these is needed to see the page at all (a viewer sees no settings). */
  permissions?: string[];
  /** Shown through a shared link (read-only views only). */
  shared: boolean;
  /** Uses the period and filters (shows the date picker and chips). */
  dated: boolean;
}

// The settings page is there for anyone who may use one of its sections (views/settings).
export const SETTINGS_PERMISSIONS = ['sites:write', 'goals:write', 'integrations:write', 'api_keys:write', 'members:write', 'shared_links:write', 'annotations:write', 'webhooks:write', 'audit:read', 'usage:read'];

export const PAGES: PageSpec[] = [
  { id: 'overview', label: 'Overview', load: async () => Overview, loaded: Overview, shared: true, dated: true },
  { id: 'realtime', label: 'Realtime', load: () => import('./views/realtime').then((m) => m.Realtime), shared: true, dated: false },
  { id: 'attribution', label: 'Attribution', load: () => import('./views/attribution').then((m) => m.Attribution), shared: true, dated: true },
  { id: 'revenue', label: 'Revenue', load: () => import('./views/revenue').then((m) => m.Revenue), shared: true, dated: true },
  { id: 'funnels', label: 'Funnels', load: () => import('./views/funnels').then((m) => m.Funnels), permissions: ['goals:read'], shared: false, dated: true },
  { id: 'customers', label: 'Customers', load: () => import('./views/customers').then((m) => m.Customers), shared: false, dated: false },
  { id: 'products', label: 'Products', load: () => import('./views/products').then((m) => m.Products), shared: true, dated: false },
  { id: 'settings', label: 'Settings', load: () => import('./views/settings/settings').then((m) => m.Settings), permissions: SETTINGS_PERMISSIONS, shared: false, dated: false },
];
