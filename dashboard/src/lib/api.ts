// The HTTP client for the stack's APIs: the query API and the management API (/api/v1/*), with
// the signed-in person's token (or a shared link's) on every request. People query through
// POST /api/v1/query (behind the Cognito JWT authorizer: the sites their role reads); a shared
// link's session token goes to POST /api/v2/query, like an API key (docs/accounts.md).
import type { Range } from './dates';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

type Credentials = () => Promise<Record<string, string>>;

let credentials: Credentials = async () => ({});
let onUnauthorized: () => void = () => {};
let queryPath = '/api/v1/query';
let renew: () => Promise<boolean> = async () => false;

/** Where requests get their Authorization header from (the session, or a shared link), and which
 * query route that token is for. */
export function setCredentials(
  provider: Credentials,
  unauthorized: () => void,
  path: '/api/v1/query' | '/api/v2/query',
  renewer: () => Promise<boolean> = async () => false,
): void {
  renew = renewer;
  credentials = provider;
  onUnauthorized = unauthorized;
  queryPath = path;
  cache.clear();
}

export async function request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...(await credentials()) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: { status: number; ok: boolean; text: string };
  try {
    const taken = early(method, path, headers.authorization, body, retried);
    if (taken) {
      const answer = await taken;
      response = { ...answer, ok: answer.status >= 200 && answer.status < 300 };
    } else {
      const r = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      response = { status: r.status, ok: r.ok, text: await r.text() };
    }
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and retry.');
  }
  const text = response.text;
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    // A refused token is renewed once (refresh token) before the session counts as ended: with
    // real Cognito an ID token the browser still thinks valid is refused when this device's clock
    // runs behind (its expiry is judged here by the local clock) or after a long sleep. (The
    // local stack's 401s on a fresh session were its threads sharing Powertools' current event,
    // fixed in touchline.aws.http_api, not tokens.)
    if (response.status === 401 && !retried && (await renew())) return request<T>(method, path, body, true);
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, errorMessage(parsed, response.status), parsed);
  }
  return parsed as T;
}

// The answers index.html's inline script asked for while the scripts downloaded (the shell's
// first GETs of the sites and the person, with the token then kept): each is taken once, by the
// same GET with the same token; anything else (a renewed token, a retry) asks again.
interface EarlyAnswer {
  status: number;
  text: string;
}

declare global {
  interface Window {
    __touchlineEarly?: { authorization: string; answers: Record<string, Promise<EarlyAnswer> | undefined> };
  }
}

function early(method: string, path: string, authorization: string | undefined, body: unknown, retried: boolean): Promise<EarlyAnswer> | undefined {
  const kept = window.__touchlineEarly;
  if (!kept || retried || method !== 'GET' || body !== undefined || kept.authorization !== authorization) return undefined;
  const answer = kept.answers[path];
  kept.answers[path] = undefined;
  return answer;
}

/** The early answers of these GETs parsed, when every one was a 200 (else undefined): main.tsx
 * waits for them (the splash would show meanwhile) so the first render is the page itself. */
export async function earlyAnswers(paths: string[]): Promise<unknown[] | undefined> {
  const kept = window.__touchlineEarly;
  if (!kept) return undefined;
  try {
    const answers = await Promise.all(paths.map((p) => kept.answers[p]));
    if (answers.some((a) => !a || a.status !== 200)) return undefined;
    return answers.map((a) => JSON.parse(a!.text) as unknown);
  } catch {
    return undefined;
  }
}

/** The message an API error body carries, whatever its shape ({error}, {message}, {detail}). */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['error', 'message', 'detail']) {
      const value = b[key];
      if (typeof value === 'string') return value;
      if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
        return (value as { message: string }).message;
      }
      if (Array.isArray(value) && value.length) {
        return value
          .map((v) => (typeof v === 'string' ? v : ((v as { msg?: string; message?: string }).msg ?? (v as { message?: string }).message ?? JSON.stringify(v))))
          .join('; ');
      }
    }
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  return `The server answered ${status}.`;
}

// ------------------------------------------------------------------ the query API

export type FilterTree = unknown[];

export interface QueryBody {
  site_id: string;
  metrics: string[];
  date_range: string | [string, string];
  dimensions?: string[];
  filters?: FilterTree[];
  order_by?: [string, 'asc' | 'desc'][];
  include?: { time_labels?: boolean; total_rows?: boolean; attribution_touches?: string; annotations?: boolean };
  pagination?: { limit: number; offset?: number };
}

export interface Money {
  value: number;
  currency: string;
  short?: string;
  long?: string;
  amount?: string;
}

export type MetricValue = number | Money | null;

export interface QueryResult {
  results: { metrics: MetricValue[]; dimensions: string[] }[];
  meta: Record<string, unknown> & {
    time_labels?: string[];
    total_rows?: number;
    /** Per metric: why a data-driven model credited nothing (`model_not_fitted`). */
    metric_warnings?: Record<string, { code: string; warning: string }>;
  };
  query: Record<string, unknown>;
}

export function dateRange(range: Range | null): string | [string, string] {
  return range ? [range.from, range.to] : 'all';
}

const CACHE_MS = 30_000;
const cache = new Map<string, { at: number; result: Promise<QueryResult> }>();

/** POST the query (people: /api/v1/query, shared links: /api/v2/query); identical queries
 * within 30 s share one request, and the queries a view asks together go in one batch. */
export function query(body: QueryBody): Promise<QueryResult> {
  const key = queryPath + JSON.stringify(body);
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.result;
  const result = batched(body);
  cache.set(key, { at: Date.now(), result });
  result.catch(() => cache.delete(key));
  if (cache.size > 300) cache.delete(cache.keys().next().value as string);
  return result;
}

// The queries asked within one task (a view's round: its effects ask them all at once) leave
// together as one batch request, `{"queries": [...]}` (docs/query-api.md): one invocation, one
// authorisation and one data-version read instead of one each, and no queue behind the
// browser's six connections to the host. Each query's answer keeps its own status.
export const BATCH_MAX = 25;
interface Waiting {
  body: QueryBody;
  resolve: (r: QueryResult) => void;
  reject: (e: Error) => void;
}
let waiting: Waiting[] = [];

function batched(body: QueryBody): Promise<QueryResult> {
  return new Promise<QueryResult>((resolve, reject) => {
    waiting.push({ body, resolve, reject });
    if (waiting.length === 1) setTimeout(flush, 0);
  });
}

function flush(): void {
  const round = waiting;
  waiting = [];
  for (let i = 0; i < round.length; i += BATCH_MAX) send(round.slice(i, i + BATCH_MAX));
}

async function send(part: Waiting[]): Promise<void> {
  const path = queryPath;
  if (part.length === 1) {
    request<QueryResult>('POST', path, part[0].body).then(part[0].resolve, part[0].reject);
    return;
  }
  try {
    const answer = await request<{ results: { status: number; body: unknown }[] }>('POST', path, { queries: part.map((w) => w.body) });
    part.forEach((w, i) => {
      const one = answer.results[i];
      if (one && one.status === 200) w.resolve(one.body as QueryResult);
      else w.reject(new ApiError(one?.status ?? 0, errorMessage(one?.body, one?.status ?? 0), one?.body ?? null));
    });
  } catch (error) {
    part.forEach((w) => w.reject(error as Error));
  }
}

// ------------------------------------------------------------------ realtime

export interface RealtimeResult {
  site_id: string;
  as_of: string;
  active_minutes: number;
  visitors: number;
  pages: { page: string; visitors: number }[];
  sources: { source: string; visitors: number }[];
  countries: { country: string; visitors: number }[];
  minutes: { minute: string; visitors: number; pageviews: number }[];
  newest_event_at: string | null;
  newest_stored_at: string | null;
}

/** Who is on the site now: GET /api/v1/realtime (people) or /api/v2/realtime (shared links);
 * never cached (the page polls it). */
export function realtime(siteId: string): Promise<RealtimeResult> {
  const path = queryPath.replace(/query$/, 'realtime');
  return request<RealtimeResult>('GET', `${path}?site_id=${encodeURIComponent(siteId)}`);
}

export function clearQueryCache(): void {
  cache.clear();
}

/** Rows of a result as objects keyed by metric and dimension names. */
export function rows(result: QueryResult, body: QueryBody): Record<string, MetricValue | string>[] {
  return result.results.map((r) => {
    const row: Record<string, MetricValue | string> = {};
    (body.dimensions ?? []).forEach((d, i) => (row[d] = r.dimensions[i] ?? ''));
    body.metrics.forEach((m, i) => (row[m] = r.metrics[i] ?? null));
    return row;
  });
}
