// Vietnamese first, English on request; the choice is remembered in localStorage.
// Dictionaries live in strings/<page>.ts (each `export default { vi: {...}, en: {...} }`), keys prefixed
// with the page's name ("map.title"); every file there is picked up by the glob below.

export type Lang = "vi" | "en";
export type Dict = { vi: Record<string, string>; en: Record<string, string> };

const STORAGE_KEY = "phananh.console.lang";
const modules = import.meta.glob<{ default: Dict }>("./strings/*.ts", { eager: true });
const dicts: Dict = { vi: {}, en: {} };
for (const mod of Object.values(modules)) {
  Object.assign(dicts.vi, mod.default.vi);
  Object.assign(dicts.en, mod.default.en);
}

function stored(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
}

let current: Lang = stored();
document.documentElement.lang = current;

export function lang(): Lang {
  return current;
}

/** Switches the language, remembers it and tells the app to draw the page again ("langchange"). */
export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = next;
  window.dispatchEvent(new CustomEvent("langchange", { detail: next }));
}

/** The text of `key` in the chosen language ({name} placeholders filled from `vars`); falls back to
 * Vietnamese, then to the key itself so a missing string shows up instead of vanishing. */
export function t(key: string, vars?: Record<string, string | number>): string {
  let text = dicts[current][key] ?? dicts.vi[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
  return text;
}

/** Numbers and dates in the chosen language's conventions. */
export function locale(): string {
  return current === "en" ? "en-GB" : "vi-VN";
}

export function fmtNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  return n.toLocaleString(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}
