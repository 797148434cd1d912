// What the queue and case pages share: category names, status words, the live stream of case changes.
import { api, ApiError } from "./api";
import { lang, t } from "./i18n";

export interface CategoryName {
  code: string;
  name: string;
}

let categories: Promise<CategoryName[]> | null = null;
let categoriesLang = "";

/** The active categories with their names in the chosen language (cached per language). */
export function categoryNames(): Promise<CategoryName[]> {
  if (!categories || categoriesLang !== lang()) {
    categoriesLang = lang();
    categories = api<{ items: CategoryName[] }>("/v1/categories").then((r) => r.items);
  }
  return categories;
}

export function statusWord(status: string): string {
  const key = "status." + status;
  const word = t(key);
  return word === key ? status : word;
}

export interface CaseChange {
  event: string;
  code: string;
  status: string;
  version: number;
  ward: string | null;
}

/** Subscribes to the caller's live case changes (server-sent events). `onReady` runs when the stream
 * (re)opens and after a resync: load the list then. Returns a function that closes the stream. */
export function liveCases(
  onChange: (c: CaseChange) => void,
  onReady: () => void,
  onState: (live: boolean) => void,
): () => void {
  let source: EventSource | null = null;
  let stopped = false;
  let retry: number | undefined;

  async function open(): Promise<void> {
    if (stopped) return;
    try {
      const ticket = await api<{ url: string }>("/v1/queue/events/ticket", { method: "POST" });
      if (stopped) return;
      source = new EventSource(ticket.url);
      source.addEventListener("ready", () => {
        onState(true);
        onReady();
      });
      source.addEventListener("resync", () => onReady());
      source.addEventListener("case", (ev) => onChange(JSON.parse((ev as MessageEvent).data) as CaseChange));
      source.addEventListener("bye", () => reconnect(500));
      source.onerror = () => reconnect(3000);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return; // this role has no live stream
      reconnect(5000);
    }
  }

  function reconnect(after: number): void {
    source?.close();
    source = null;
    onState(false);
    if (!stopped) {
      clearTimeout(retry);
      retry = window.setTimeout(() => void open(), after);
    }
  }

  void open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    source?.close();
  };
}
