// The officers' queue: their wards' open cases, due first, with counts per status and filters; new and
// changed cases arrive live (server-sent events) without a reload.
import { api, session } from "../api";
import { categoryNames, liveCases, statusWord, type CaseChange } from "../cases";
import { fmtDateTime, t } from "../i18n";
import { field, h, replace, select, showError, toast } from "../ui";
import "../styles/cases.css";

interface QueueItem {
  code: string;
  status: string;
  category: string;
  ward: string | null;
  ward_name?: string | null;
  description: string;
  address: string | null;
  created_at: string;
  due_at: string | null;
  overdue: boolean;
  near_boundary: boolean;
  assignee: string | null;
  follower_count: number;
}

interface QueueOut {
  items: QueueItem[];
  counts: Record<string, number>;
  next_cursor: string | null;
}

const OPEN_STATUSES = ["new", "acknowledged", "in_progress", "on_hold"];

export function mount(root: HTMLElement): () => void {
  const me = session();
  const status = select("status", [["", t("queue.open")], ...OPEN_STATUSES.map((s): [string, string] => [s, statusWord(s)])]);
  const category = select("category", [["", t("common.all")]]);
  const overdue = h("input", { type: "checkbox", name: "overdue", id: "q-overdue" });
  const near = h("input", { type: "checkbox", name: "near_boundary", id: "q-near" });
  const mine = h("input", { type: "checkbox", name: "assigned", id: "q-mine" });
  const counts = h("div", { class: "chips", "aria-live": "polite" });
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("queue.more"));
  const liveState = h("span", { class: "live muted", role: "status" });
  const names = new Map<string, string>();
  let cursor: string | null = null;
  let loading = 0;

  categoryNames()
    .then((cats) => {
      for (const c of cats) {
        names.set(c.code, c.name);
        category.appendChild(h("option", { value: c.code }, c.name));
      }
      redrawNames();
    })
    .catch(showError);

  function query(): Record<string, string | boolean | undefined> {
    return {
      status: status.value || undefined,
      category: category.value || undefined,
      overdue: overdue.checked || undefined,
      near_boundary: near.checked || undefined,
      assigned: mine.checked ? "me" : undefined,
    };
  }

  function row(it: QueueItem): HTMLTableRowElement {
    return h(
      "tr",
      { class: it.overdue ? "overdue" : "", dataset: { code: it.code, category: it.category } },
      h("td", null, h("a", { href: "#/case/" + it.code }, it.code)),
      h("td", null, h("span", { class: "badge status-" + it.status }, statusWord(it.status))),
      h("td", { class: "cat" }, names.get(it.category) ?? it.category),
      h("td", null, it.ward_name ?? it.ward ?? ""),
      h("td", { class: "desc" }, it.description.length > 140 ? it.description.slice(0, 140) + "…" : it.description, it.address ? h("div", { class: "muted" }, it.address) : null),
      h(
        "td",
        null,
        fmtDateTime(it.due_at),
        it.overdue ? h("span", { class: "badge overdue" }, t("queue.overdue_badge")) : null,
        it.near_boundary ? h("span", { class: "badge" }, t("queue.boundary_badge")) : null,
      ),
      h("td", { class: "muted" }, fmtDateTime(it.created_at)),
    );
  }

  function redrawNames(): void {
    for (const cell of body.querySelectorAll<HTMLTableCellElement>("td.cat")) {
      const code = cell.parentElement?.dataset.category;
      if (code && names.has(code)) cell.textContent = names.get(code) ?? code;
    }
  }

  async function load(append = false): Promise<void> {
    const seq = ++loading;
    try {
      const out = await api<QueueOut>("/v1/officer/queue", { query: { ...query(), cursor: append ? cursor ?? undefined : undefined, limit: 50 } });
      if (seq !== loading) return; // a newer load replaced this one
      cursor = out.next_cursor;
      more.hidden = !cursor;
      if (!append) body.replaceChildren();
      for (const it of out.items) body.appendChild(row(it));
      if (!body.children.length) body.appendChild(h("tr", null, h("td", { colspan: 7, class: "muted" }, t("queue.empty"))));
      replace(
        counts,
        Object.entries(out.counts).map(([s, n]) => h("span", { class: "chip", dataset: { status: s } }, statusWord(s), " ", h("b", null, String(n)))),
      );
    } catch (err) {
      showError(err);
    }
  }

  for (const control of [status, category, overdue, near, mine]) control.addEventListener("change", () => void load());
  more.addEventListener("click", () => void load(true));

  let pending: number | undefined;
  const stop = liveCases(
    (c: CaseChange) => {
      if (c.event === "created") toast(t("queue.new_case", { code: c.code }), "info");
      clearTimeout(pending);
      pending = window.setTimeout(() => void load(), 300); // a burst of changes: one reload
    },
    () => void load(),
    (live) => (liveState.textContent = live ? "● " + t("queue.live_on") : t("queue.live_off")),
  );

  root.append(
    h(
      "section",
      { class: "page queue" },
      h("div", { class: "page-head" }, h("h1", null, t("queue.title")), liveState),
      h(
        "form",
        { class: "filters", "aria-label": t("queue.filters"), onsubmit: (e: Event) => e.preventDefault() },
        field(t("queue.status"), status),
        field(t("queue.category"), category),
        h("label", { class: "check", for: "q-overdue" }, overdue, t("queue.overdue")),
        h("label", { class: "check", for: "q-near" }, near, t("queue.near_boundary")),
        me?.role === "officer" ? h("label", { class: "check", for: "q-mine" }, mine, t("queue.mine")) : null,
      ),
      counts,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data", "data-testid": "queue" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ...["queue.code", "queue.status", "queue.category", "queue.ward", "queue.description", "queue.due", "queue.received"].map((k) => h("th", { scope: "col" }, t(k))),
            ),
          ),
          body,
        ),
      ),
      more,
    ),
  );
  void load();
  return () => {
    stop();
    clearTimeout(pending);
  };
}
