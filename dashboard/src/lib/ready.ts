// When a view has every answer on screen it says so, for people (aria-busy goes false) and for
// measurements: a Performance mark `touchline:<view>-ready`, and the round's queries and answers
// on `window.__touchline` so a test can compare the screen with the API.
import type { QueryBody, QueryResult } from './api';

declare global {
  interface Window {
    __touchline?: { view: string; renders: number; queries: { body: QueryBody; result?: QueryResult }[] };
  }
}

export function markReady(view: string, queries: { body: QueryBody; result?: QueryResult }[]): void {
  requestAnimationFrame(() => {
    const renders = (window.__touchline?.renders ?? 0) + 1;
    performance.mark(`touchline:${view}-ready`, { detail: { renders } });
    window.__touchline = { view, renders, queries };
    document.documentElement.dataset.ready = `${view}:${renders}`;
  });
}
