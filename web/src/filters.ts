// The filters the map and the figures share: one selection drives the map's tiles, the figures and
// the export links together, and survives moving between the two pages (sessionStorage).
import { t } from "./i18n";

export interface Filters {
  category: string; // a category code, "" for all
  status: string; // "", "open", "closed" or one status
  period: string; // days back from today ("7", "30", "90", "365") or "all"
  ward: string; // a ward code, "" for every ward in scope
  overdue: boolean; // only cases past their deadline
}

const KEY = "phananh.console.filters";
const DEFAULTS: Filters = { category: "", status: "", period: "30", ward: "", overdue: false };
export const PERIODS = ["7", "30", "90", "365", "all"];
export const STATUSES = ["open", "closed", "new", "acknowledged", "in_progress", "resolved", "rejected", "duplicate"];

let current: Filters = load();

function load(): Filters {
  try {
    return { ...DEFAULTS, ...JSON.parse(sessionStorage.getItem(KEY) ?? "{}") };
  } catch {
    return { ...DEFAULTS };
  }
}

export function filters(): Filters {
  return { ...current };
}

/** Changes some filters and tells the pages ("filterschange" on window). */
export function setFilters(patch: Partial<Filters>): void {
  current = { ...current, ...patch };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    /* the choice lasts for this page only */
  }
  window.dispatchEvent(new CustomEvent("filterschange", { detail: filters() }));
}

/** A local date (the city's time zone, as the API counts days) as YYYY-MM-DD. */
export function localDate(d: Date): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(d);
}

/** The period's first and last local days (both undefined for "all"). */
export function dateRange(period: string): { from?: string; to?: string } {
  const days = Number(period);
  if (!Number.isFinite(days) || days <= 0) return {};
  const now = new Date();
  return { from: localDate(new Date(now.getTime() - (days - 1) * 86_400_000)), to: localDate(now) };
}

export type Query = Record<string, string | undefined>;

/** The query of the tiles, the figures and the exports for `f`: the same cases everywhere.
 * `area` repeats the ward for the endpoints that know a ward only as an area. */
export function caseQuery(f: Filters): Query {
  const { from, to } = dateRange(f.period);
  return {
    status: f.status || undefined,
    category: f.category || undefined,
    ward: f.ward || undefined,
    area: f.ward || undefined,
    from,
    to,
    overdue: f.overdue ? "true" : undefined,
  };
}

/** Options of the status filter, in the chosen language. */
export function statusOptions(): [string, string][] {
  return [["", t("common.all")], ...STATUSES.map((s): [string, string] => [s, t(`status.${s}`)])];
}

export function periodOptions(): [string, string][] {
  return PERIODS.map((p): [string, string] => [p, t(`period.${p}`)]);
}
