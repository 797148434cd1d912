// The one way pages talk to the API. The access token lives in this module's memory only; the refresh
// token is an HttpOnly cookie the page never sees (POST /v1/console/session*, api/console/http.py).
import { lang, t } from "./i18n";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Role = "officer" | "leader" | "moderator" | "admin";

export interface SessionUser {
  id: string;
  username: string;
  display_name: string | null;
  role: Role;
  areas: string[];
  agencies: string[];
}

/** [west, south, east, north] */
export type Extent = [number, number, number, number];

interface SessionOut {
  access_token: string;
  expires_in: number;
  user: SessionUser;
  extent: Extent | null;
}

export interface Session {
  user: SessionUser;
  role: Role;
  areas: string[];
  /** where the map opens: the bounds of the wards under the user's areas (null: unknown) */
  extent: Extent | null;
}

// Whether this browser holds a session cookie, as far as the page knows (the cookie itself is out of
// the script's reach): a page load without one does not ask for a refresh that can only fail.
const HINT = "phananh.console.session";
let token: string | null = null;
let who: SessionUser | null = null;
let whereabouts: Extent | null = null;
let refreshTimer: number | undefined;
let refreshing: Promise<boolean> | null = null;

/** Who is signed in (null: nobody). */
export function session(): Session | null {
  return who ? { user: who, role: who.role, areas: who.areas, extent: whereabouts } : null;
}

/** The current access token, for requests made outside `api()` (the map's tile requests). */
export function accessToken(): string | null {
  return token;
}

function acceptLanguage(): string {
  return lang() === "en" ? "en, vi;q=0.5" : "vi, en;q=0.5";
}

function adopt(out: SessionOut): void {
  token = out.access_token;
  who = out.user;
  whereabouts = out.extent;
  hint(true);
  window.clearTimeout(refreshTimer);
  // refresh a minute before the token expires, so tile requests never carry a stale one
  const wait = Math.max(10, out.expires_in - 60) * 1000;
  refreshTimer = window.setTimeout(() => void refresh(), wait);
  window.dispatchEvent(new CustomEvent("sessionchange"));
}

function hint(on: boolean): void {
  try {
    if (on) localStorage.setItem(HINT, "1");
    else localStorage.removeItem(HINT);
  } catch {
    /* storage off: every load asks */
  }
}

function hinted(): boolean {
  try {
    return localStorage.getItem(HINT) !== null;
  } catch {
    return true;
  }
}

function forget(): void {
  hint(false);
  const had = who !== null;
  token = null;
  who = null;
  window.clearTimeout(refreshTimer);
  if (had) window.dispatchEvent(new CustomEvent("sessionchange"));
}

async function errorOf(r: Response): Promise<ApiError> {
  try {
    const body = await r.json();
    const e = body?.error;
    if (e && typeof e.message === "string") return new ApiError(r.status, String(e.code ?? "error"), e.message, e.details ?? null);
  } catch {
    /* not JSON: a proxy's page */
  }
  return new ApiError(r.status, "http_" + r.status, t("common.error_status", { status: r.status }));
}

/** At page load: brings the session back from the cookie, when there may be one. */
export async function restore(): Promise<boolean> {
  return hinted() ? refresh() : false;
}

/** Trades the refresh cookie for a new access token (the cookie rotates). One at a time: callers
 * that arrive while a refresh runs share its outcome. False when there is no good session. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const r = await fetch("/v1/console/session/refresh", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept-Language": acceptLanguage() },
      });
      if (!r.ok) {
        forget();
        return false;
      }
      adopt(await r.json());
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function signIn(username: string, password: string): Promise<SessionUser> {
  const r = await fetch("/v1/console/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept-Language": acceptLanguage() },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw await errorOf(r);
  const out: SessionOut = await r.json();
  adopt(out);
  return out.user;
}

export async function signOut(): Promise<void> {
  try {
    await fetch("/v1/console/session", { method: "DELETE", credentials: "same-origin" });
  } finally {
    forget();
  }
}

export interface ApiOptions {
  method?: string;
  /** JSON body (sent as application/json) */
  body?: unknown;
  /** query parameters; empty strings, null and undefined are left out */
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
  /** return the Response itself (files, tiles) instead of parsed JSON */
  raw?: boolean;
}

/** `path` with the non-empty `query` parameters. */
export function withQuery(path: string, query?: ApiOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === null || v === undefined || v === "") continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path;
}

/** Calls the API with the bearer token; a 401 refreshes the session once and tries again. Errors are
 * thrown as ApiError with the server's message in the chosen language. */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const url = withQuery(path, opts.query);
  const send = () => {
    const headers: Record<string, string> = { "Accept-Language": acceptLanguage() };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: opts.method ?? (opts.body !== undefined ? "POST" : "GET"),
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
      credentials: "same-origin",
    });
  };
  let r = await send();
  if (r.status === 401 && (await refresh())) r = await send();
  if (!r.ok) throw await errorOf(r);
  if (opts.raw) return r as unknown as T;
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

/** Downloads an API file (exports need the bearer token, so a plain link cannot fetch them). */
export async function download(path: string, query: ApiOptions["query"], filename: string): Promise<void> {
  const r = await api<Response>(path, { query, raw: true });
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface ConsoleConfig {
  map_style_url: string | null;
}

let config: Promise<ConsoleConfig> | null = null;

/** The console's settings from the server (GET /v1/console/config), fetched once. */
export function consoleConfig(): Promise<ConsoleConfig> {
  config ??= api<ConsoleConfig>("/v1/console/config").catch(() => ({ map_style_url: null }));
  return config;
}
