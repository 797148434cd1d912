// Reference data the figures pages share: category and ward names, and the figures themselves.
import { api, withQuery } from "./api";
import { caseQuery, type Filters } from "./filters";
import { lang } from "./i18n";

/** A row of GET /v1/stats. Fields beyond the first few are read when the server sends them. */
export interface StatsRow {
  key: string | null;
  received: number;
  open: number;
  overdue: number;
  resolved: number;
  resolved_on_time: number;
  resolved_on_time_pct: number | null;
  median_ack_hours?: number | null;
  median_resolve_hours: number | null;
  mean_rating?: number | null;
  name?: string | null;
  name_vi?: string | null;
  name_en?: string | null;
  start?: string | null;
  end?: string | null;
}

export interface StatsOut {
  group_by: string;
  groups: StatsRow[];
  total?: StatsRow | null;
}

export function stats(groupBy: "ward" | "category" | "day" | "week", f: Filters, signal?: AbortSignal): Promise<StatsOut> {
  return api<StatsOut>("/v1/stats", { query: { ...caseQuery(f), group_by: groupBy }, signal });
}

/** The figures over all rows: the server's `total` when it sends one, else the sum of the rows. */
export function total(out: StatsOut): StatsRow {
  if (out.total) return out.total;
  const sum: StatsRow = { key: null, received: 0, open: 0, overdue: 0, resolved: 0, resolved_on_time: 0, resolved_on_time_pct: null, median_resolve_hours: null };
  for (const r of out.groups) {
    sum.received += r.received;
    sum.open += r.open;
    sum.overdue += r.overdue;
    sum.resolved += r.resolved;
    sum.resolved_on_time += r.resolved_on_time;
  }
  sum.resolved_on_time_pct = sum.resolved ? (100 * sum.resolved_on_time) / sum.resolved : null;
  return sum;
}

/** Share of open cases past their deadline, in percent (null: no open case). */
export function overduePct(r: StatsRow): number | null {
  return r.open ? (100 * r.overdue) / r.open : null;
}

interface Category {
  code: string;
  name: string;
}

const categoryCache = new Map<string, Promise<Map<string, string>>>();

/** Active categories (code → name in the chosen language). */
export function categories(): Promise<Map<string, string>> {
  const l = lang();
  if (!categoryCache.has(l)) {
    categoryCache.set(
      l,
      api<{ items: Category[] }>("/v1/categories").then((r) => new Map(r.items.map((c) => [c.code, c.name]))),
    );
  }
  return categoryCache.get(l)!;
}

const areaNames = new Map<string, string>();

/** Remembers names seen elsewhere (a tile's `wards` layer, a stats row). */
export function learnAreaName(code: string, name: string | null | undefined): void {
  if (name) areaNames.set(code, name);
}

/** Names of the given areas: those already known, the others asked of GET /v1/areas/{code}. */
export async function areaNamesOf(codes: string[]): Promise<Map<string, string>> {
  const missing = codes.filter((c) => !areaNames.has(c)).slice(0, 200);
  await Promise.all(
    missing.map((code) =>
      api<{ area: { name: string } }>(`/v1/areas/${encodeURIComponent(code)}`)
        .then((r) => learnAreaName(code, r.area.name))
        .catch(() => undefined),
    ),
  );
  return new Map(codes.map((c) => [c, areaNames.get(c) ?? c]));
}

/** The name of a stats row: the server's when it sends one, else what is known, else its code. */
export function rowName(r: StatsRow, known?: Map<string, string>): string {
  const own = lang() === "en" ? r.name_en ?? r.name : r.name_vi ?? r.name;
  return own || (r.key ? known?.get(r.key) ?? areaNames.get(r.key) ?? r.key : "—");
}

/** The wards (code → name) that rows of a ward grouping name, asking for the names the rows lack. */
export async function wardsOf(out: StatsOut): Promise<Map<string, string>> {
  for (const r of out.groups) if (r.key) learnAreaName(r.key, r.name);
  const codes = out.groups.map((r) => r.key).filter((k): k is string => !!k);
  return areaNamesOf(codes);
}

/** An export URL of exactly these filters (shown to the user; downloading goes through `download`). */
export function exportPath(kind: "csv" | "geojson", f: Filters): string {
  return withQuery(`/v1/export.${kind}`, caseQuery(f));
}
