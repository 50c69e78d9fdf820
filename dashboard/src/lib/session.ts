// Signing in through Cognito's own API from the browser (no SDK): InitiateAuth with
// USER_PASSWORD_AUTH, RespondToAuthChallenge for the first-login new password, and
// REFRESH_TOKEN_AUTH to renew. The stack says where Cognito is (GET /api/v1/auth/config:
// moto's endpoint under `touchline dev`, the regional one in AWS).
//
// Tokens: the ID token is sent as the Bearer token (its `aud` is the app client, which the API's
// JWT authorizer checks); the refresh token is kept in localStorage so a reload stays signed in;
// the short-lived tokens live in sessionStorage. A shared link's read-only token is kept apart.
import { ApiError, request } from './api';
import { forget } from './sites';

export interface AuthConfig {
  region: string;
  user_pool_id: string;
  client_id: string;
  cognito_endpoint: string;
}

interface Tokens {
  id: string;
  access: string;
  expiresAt: number;
  email: string;
}

const REFRESH_KEY = 'tl.refresh';
const TOKENS_KEY = 'tl.tokens';
const EMAIL_KEY = 'tl.email';

let config: AuthConfig | null | undefined;

export async function authConfig(): Promise<AuthConfig | null> {
  if (config !== undefined) return config;
  try {
    config = await request<AuthConfig>('GET', '/api/v1/auth/config');
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) config = null;
    else throw error;
  }
  return config;
}

export class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

async function cognito<T>(target: string, payload: unknown): Promise<T> {
  const c = await authConfig();
  if (!c) throw new CognitoError('NotConfigured', 'This stack has no sign-in configured.');
  let response: Response;
  try {
    response = await fetch(c.cognito_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(payload),
    });
  } catch {
    throw new CognitoError('Network', 'Cognito cannot be reached. Check your connection and retry.');
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const type = String(body.__type ?? body.code ?? 'Error').split('#').pop() ?? 'Error';
    throw new CognitoError(type, String(body.message ?? body.Message ?? `Cognito answered ${response.status}.`));
  }
  return body as T;
}

interface AuthResult {
  AuthenticationResult?: { IdToken: string; AccessToken: string; RefreshToken?: string; ExpiresIn: number };
  ChallengeName?: string;
  Session?: string;
}

export type SignInOutcome = { kind: 'signed-in' } | { kind: 'new-password'; session: string; email: string };

function store(email: string, result: NonNullable<AuthResult['AuthenticationResult']>): void {
  const tokens: Tokens = { id: result.IdToken, access: result.AccessToken, expiresAt: Date.now() + result.ExpiresIn * 1000, email };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  localStorage.setItem(EMAIL_KEY, email);
  if (result.RefreshToken) localStorage.setItem(REFRESH_KEY, result.RefreshToken);
}

function outcome(email: string, r: AuthResult): SignInOutcome {
  if (r.AuthenticationResult) {
    store(email, r.AuthenticationResult);
    return { kind: 'signed-in' };
  }
  if (r.ChallengeName === 'NEW_PASSWORD_REQUIRED' && r.Session) return { kind: 'new-password', session: r.Session, email };
  throw new CognitoError(r.ChallengeName ?? 'Unsupported', `Sign-in needs a step this dashboard does not support (${r.ChallengeName}).`);
}

export async function signIn(email: string, password: string): Promise<SignInOutcome> {
  const c = (await authConfig())!;
  const r = await cognito<AuthResult>('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: c?.client_id,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return outcome(email, r);
}

export async function setNewPassword(email: string, session: string, password: string): Promise<SignInOutcome> {
  const c = (await authConfig())!;
  const r = await cognito<AuthResult>('RespondToAuthChallenge', {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    ClientId: c.client_id,
    Session: session,
    ChallengeResponses: { USERNAME: email, NEW_PASSWORD: password },
  });
  return outcome(email, r);
}

function tokens(): Tokens | null {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY) ?? 'null') as Tokens | null;
  } catch {
    return null;
  }
}

let refreshing: Promise<Tokens | null> | null = null;

async function refresh(): Promise<Tokens | null> {
  const token = localStorage.getItem(REFRESH_KEY);
  const email = localStorage.getItem(EMAIL_KEY) ?? '';
  if (!token) return null;
  const c = await authConfig();
  if (!c) return null;
  try {
    const r = await cognito<AuthResult>('InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: c.client_id,
      AuthParameters: { REFRESH_TOKEN: token },
    });
    if (!r.AuthenticationResult) return null;
    store(email, r.AuthenticationResult);
    return tokens();
  } catch (error) {
    if (error instanceof CognitoError && error.type === 'NotAuthorizedException') signOut();
    return null;
  }
}

/** A valid ID token (renewed a minute before it expires), or null when signed out. */
export async function idToken(): Promise<string | null> {
  const t = tokens();
  if (t && t.expiresAt - Date.now() > 60_000) return t.id;
  refreshing ??= refresh().finally(() => (refreshing = null));
  return (await refreshing)?.id ?? null;
}

/** A new ID token from the refresh token, whatever the current one's expiry (after a 401). */
export async function renewSession(): Promise<boolean> {
  sessionStorage.removeItem(TOKENS_KEY);
  return (await idToken()) !== null;
}

export function signedInEmail(): string {
  return tokens()?.email ?? localStorage.getItem(EMAIL_KEY) ?? '';
}

export function hasSession(): boolean {
  return !!tokens() || !!localStorage.getItem(REFRESH_KEY);
}

export function signOut(): void {
  forget();
  sessionStorage.removeItem(TOKENS_KEY);
  localStorage.removeItem(REFRESH_KEY);
}

// ------------------------------------------------------------------ shared links

export interface SharedSession {
  token: string;
  expires_at: number | string;
  site_id: string;
  domain: string;
  timezone?: string;
}

const SHARED_KEY = 'tl.shared.';

function expiresMs(s: SharedSession): number {
  // Seconds since the epoch (the accounts API), or an ISO date.
  return typeof s.expires_at === 'number' ? s.expires_at * 1000 : Date.parse(String(s.expires_at));
}

/** Storage can be refused (an embedding page's privacy settings): then it lasts for this page. */
function stored(key: string, value?: string): string | null {
  try {
    if (value === undefined) return sessionStorage.getItem(key);
    sessionStorage.setItem(key, value);
  } catch {
    /* no storage in this frame */
  }
  return null;
}

export async function openSharedLink(link: string, password?: string): Promise<SharedSession> {
  const cached = stored(SHARED_KEY + link);
  if (cached && !password) {
    const s = JSON.parse(cached) as SharedSession;
    if (expiresMs(s) - Date.now() > 60_000) return s;
  }
  const s = await request<SharedSession>('POST', '/api/v1/shared-links/session', { link, password: password || undefined });
  stored(SHARED_KEY + link, JSON.stringify(s));
  return s;
}
