// Administration in tabs: staff accounts and their scopes, categories and their deadlines, the working
// calendar (national holidays and the admin's own days), agencies, partners' Open311 keys. Leaders see
// the staff of their own areas only (the API decides; the other tabs are the admin's).
import { api, session } from "../api";
import { fmtDateTime, t } from "../i18n";
import { field, h, replace, select, showError, toast } from "../ui";
import "../styles/cases.css";

type Tab = "users" | "categories" | "holidays" | "agencies" | "apikeys";

function word(prefix: string, code: string): string {
  const key = `${prefix}.${code}`;
  const w = t(key);
  return w === key ? code : w;
}

function codes(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}

function table(headers: string[], rows: HTMLElement[]): HTMLElement {
  return h("div", { class: "table-wrap" }, h("table", { class: "data" }, h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", null, rows)));
}

function form(title: string, controls: HTMLElement[], submitLabel: string, onsubmit: (data: FormData, el: HTMLFormElement) => Promise<void>): HTMLFormElement {
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const el = h("form", { class: "card" }, h("h2", null, title), controls, button);
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      await onsubmit(new FormData(el), el);
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

const str = (d: FormData, k: string) => String(d.get(k) ?? "").trim();

async function users(box: HTMLElement, admin: boolean): Promise<void> {
  interface U { id: string; username: string | null; display_name: string | null; role: string; areas: string[]; agencies: string[]; disabled: boolean; last_login_at: string | null }
  const out = await api<{ items: U[]; next_cursor: string | null }>("/v1/admin/users", { query: { limit: 200 } });
  const rows = out.items.map((u) => {
    const areas = h("input", { name: "areas", value: u.areas.join(", "), "aria-label": `${t("admin.areas")} — ${u.username}`, disabled: !admin });
    const save = h("button", { type: "button", class: "secondary", hidden: !admin }, t("admin.save"));
    save.addEventListener("click", async () => {
      try {
        await api(`/v1/admin/users/${u.id}`, { method: "PATCH", body: { areas: codes(areas.value) } });
        toast(t("admin.saved"), "info");
      } catch (err) {
        showError(err);
      }
    });
    const toggle = h("button", { type: "button", class: "secondary", hidden: !admin }, u.disabled ? t("admin.enable") : t("admin.disable"));
    toggle.addEventListener("click", async () => {
      try {
        await api(`/v1/admin/users/${u.id}`, { method: "PATCH", body: { disabled: !u.disabled } });
        await render(box, "users");
      } catch (err) {
        showError(err);
      }
    });
    return h(
      "tr",
      { class: u.disabled ? "zero" : "" },
      h("td", null, u.username ?? "—"),
      h("td", null, u.display_name ?? ""),
      h("td", null, word("role", u.role), u.disabled ? h("span", { class: "badge" }, t("admin.disabled")) : null),
      h("td", null, areas, " ", save),
      h("td", null, u.agencies.join(", ")),
      h("td", { class: "muted" }, fmtDateTime(u.last_login_at)),
      h("td", null, toggle),
    );
  });
  const role = select("role", ["officer", "leader", "moderator", "admin"].map((r): [string, string] => [r, word("role", r)]));
  replace(
    box,
    h(
      "div",
      { class: "admin-grid" },
      table([t("admin.username"), t("admin.display_name"), t("admin.role"), t("admin.areas"), t("admin.agencies"), t("admin.last_login"), ""], rows),
      admin
        ? form(
            t("admin.new_user"),
            [
              field(t("admin.username"), h("input", { name: "username", required: true, autocomplete: "off" })),
              field(t("admin.display_name"), h("input", { name: "display_name" })),
              field(t("admin.password"), h("input", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" })),
              field(t("admin.role"), role),
              field(t("admin.areas"), h("input", { name: "areas" })),
              field(t("admin.agencies"), h("input", { name: "agencies" })),
            ],
            t("admin.add"),
            async (d) => {
              await api("/v1/admin/users", {
                body: { username: str(d, "username"), password: String(d.get("password") ?? ""), role: str(d, "role"), display_name: str(d, "display_name") || null, areas: codes(str(d, "areas")), agencies: codes(str(d, "agencies")) },
              });
              toast(t("admin.saved"), "info");
              await render(box, "users");
            },
          )
        : null,
    ),
  );
}

async function categories(box: HTMLElement): Promise<void> {
  interface C { code: string; name_vi: string; name_en: string; ack_hours: number; resolve_value: number; resolve_unit: string; active: boolean; routes: { area: string; agency: string }[] }
  const out = await api<{ items: C[] } | C[]>("/v1/admin/categories");
  const items = Array.isArray(out) ? out : out.items;
  const rows = items.map((c) => {
    const ack = h("input", { type: "number", min: 1, name: "ack_hours", value: String(c.ack_hours), "aria-label": `${t("admin.ack_hours")} — ${c.name_vi}` });
    const resolve = h("input", { type: "number", min: 1, name: "resolve_value", value: String(c.resolve_value), "aria-label": `${t("admin.resolve")} — ${c.name_vi}` });
    const unit = select("resolve_unit", [["hours", t("admin.unit.hours")], ["days", t("admin.unit.days")]], c.resolve_unit);
    unit.setAttribute("aria-label", `${t("admin.resolve")} — ${c.name_vi}`);
    const active = h("input", { type: "checkbox", checked: c.active, "aria-label": `${t("admin.active")} — ${c.name_vi}` });
    // routes as "agency:area, …" (the agency's cases in the wards under that area)
    const routes = h("input", { name: "routes", value: c.routes.map((r) => `${r.agency}:${r.area}`).join(", "), "aria-label": `${t("admin.routes")} — ${c.name_vi}`, placeholder: "evn:79" });
    const save = h("button", { type: "button", class: "secondary" }, t("admin.save"));
    save.addEventListener("click", async () => {
      try {
        await api(`/v1/admin/categories/${c.code}`, { method: "PATCH", body: { ack_hours: Number(ack.value), resolve_value: Number(resolve.value), resolve_unit: unit.value, active: active.checked } });
        const pairs = codes(routes.value).map((p) => {
          const [agency, area] = p.split(":").map((x) => x.trim());
          return { agency, area };
        });
        await api(`/v1/admin/categories/${c.code}/routes`, { method: "PUT", body: { routes: pairs } });
        toast(t("admin.saved"), "info");
      } catch (err) {
        showError(err);
      }
    });
    return h("tr", null, h("td", null, c.name_vi, h("div", { class: "muted" }, c.name_en)), h("td", null, ack), h("td", null, resolve, " ", unit), h("td", null, routes), h("td", null, active), h("td", null, save));
  });
  replace(box, table([t("queue.category"), t("admin.ack_hours"), t("admin.resolve"), t("admin.routes"), t("admin.active"), ""], rows));
}

async function holidays(box: HTMLElement, year: number): Promise<void> {
  interface D { day: string; name: string; kind?: string; source?: string; reason?: string | null; decision?: string | null }
  const out = await api<{ items: D[] }>("/v1/admin/holidays", { query: { year, limit: 200 } });
  const years = select("year", [year - 1, year, year + 1].map((y): [string, string] => [String(y), String(y)]), String(year));
  years.addEventListener("change", () => void holidays(box, Number(years.value)));
  const rows = out.items.map((d) => {
    const del = d.source !== "holidays" ? h("button", { type: "button", class: "secondary danger" }, t("admin.delete")) : null;
    del?.addEventListener("click", async () => {
      try {
        await api(`/v1/admin/holidays/${d.day}`, { method: "DELETE" });
        await holidays(box, year);
      } catch (err) {
        showError(err);
      }
    });
    return h("tr", null, h("td", null, d.day), h("td", null, d.name), h("td", null, word("admin.kind", d.kind ?? "day_off")), h("td", null, word("admin.source", d.source ?? "admin")), h("td", null, [d.reason, d.decision].filter(Boolean).join(" — ")), h("td", null, del));
  });
  replace(
    box,
    h("div", { class: "year-pick" }, field(t("admin.year"), years)),
    h(
      "div",
      { class: "admin-grid" },
      table([t("admin.day"), t("admin.day_name"), t("admin.kind"), t("admin.source"), t("admin.reason"), ""], rows),
      form(
        t("admin.new_day"),
        [
          field(t("admin.day"), h("input", { name: "day", type: "date", required: true })),
          field(t("admin.day_name"), h("input", { name: "name", required: true })),
          field(t("admin.kind"), select("kind", [["day_off", t("admin.kind.day_off")], ["working_day", t("admin.kind.working_day")]])),
          field(t("admin.reason"), h("input", { name: "reason" })),
          field(t("admin.decision"), h("input", { name: "decision" })),
        ],
        t("admin.add"),
        async (d) => {
          await api("/v1/admin/holidays", { body: { day: str(d, "day"), name: str(d, "name"), kind: str(d, "kind"), reason: str(d, "reason") || null, decision: str(d, "decision") || null } });
          toast(t("admin.saved"), "info");
          await holidays(box, year);
        },
      ),
    ),
  );
}

async function agencies(box: HTMLElement): Promise<void> {
  const out = await api<{ items: { code: string; name_vi: string; name_en: string }[] }>("/v1/admin/agencies");
  replace(
    box,
    h(
      "div",
      { class: "admin-grid" },
      table([t("admin.code"), t("admin.name_vi"), t("admin.name_en")], out.items.map((a) => h("tr", null, h("td", null, a.code), h("td", null, a.name_vi), h("td", null, a.name_en)))),
      form(
        t("admin.new_agency"),
        [field(t("admin.code"), h("input", { name: "code", required: true, pattern: "[a-z0-9-]+" })), field(t("admin.name_vi"), h("input", { name: "name_vi", required: true })), field(t("admin.name_en"), h("input", { name: "name_en", required: true }))],
        t("admin.save"),
        async (d) => {
          await api(`/v1/admin/agencies/${encodeURIComponent(str(d, "code"))}`, { method: "PUT", body: { name_vi: str(d, "name_vi"), name_en: str(d, "name_en") } });
          await agencies(box);
        },
      ),
    ),
  );
}

async function apikeys(box: HTMLElement): Promise<void> {
  interface K { id: string; name: string; prefix: string; created_at: string; revoked_at?: string | null; last_used_at?: string | null }
  const out = await api<{ items: K[] }>("/v1/admin/apikeys", { query: { limit: 200 } });
  const shown = h("div", { role: "status" });
  const rows = out.items.map((k) => {
    const revoke = k.revoked_at ? h("span", { class: "badge" }, t("admin.revoked")) : h("button", { type: "button", class: "secondary danger" }, t("admin.revoke"));
    if (!k.revoked_at)
      revoke.addEventListener("click", async () => {
        try {
          await api(`/v1/admin/apikeys/${k.id}`, { method: "DELETE" });
          await apikeys(box);
        } catch (err) {
          showError(err);
        }
      });
    return h("tr", { class: k.revoked_at ? "zero" : "" }, h("td", null, k.name), h("td", null, k.prefix + "…"), h("td", null, fmtDateTime(k.created_at)), h("td", null, fmtDateTime(k.last_used_at ?? null)), h("td", null, revoke));
  });
  replace(
    box,
    h(
      "div",
      { class: "admin-grid" },
      table([t("admin.partner"), t("admin.code"), t("admin.created"), t("admin.last_used"), ""], rows),
      h(
        "div",
        null,
        form(t("admin.new_key"), [field(t("admin.partner"), h("input", { name: "name", required: true, maxlength: 120 }))], t("admin.new_key"), async (d) => {
          const made = await api<{ key: string }>("/v1/admin/apikeys", { body: { name: str(d, "name") } });
          await apikeys(box);
          box.prepend(h("div", { class: "card", role: "status" }, h("p", null, t("admin.key_once")), h("p", { class: "secret", "data-testid": "new-key" }, made.key)));
        }),
        shown,
      ),
    ),
  );
}

async function render(box: HTMLElement, tab: Tab): Promise<void> {
  const admin = session()?.role === "admin";
  replace(box, h("p", { class: "loading" }, t("common.loading")));
  try {
    if (tab === "users") await users(box, admin);
    else if (tab === "categories") await categories(box);
    else if (tab === "holidays") await holidays(box, new Date().getFullYear());
    else if (tab === "agencies") await agencies(box);
    else await apikeys(box);
  } catch (err) {
    replace(box, h("p", { class: "form-error", role: "alert" }, err instanceof Error ? err.message : String(err)));
  }
}

export function mount(root: HTMLElement): void {
  const admin = session()?.role === "admin";
  const tabs: Tab[] = admin ? ["users", "categories", "holidays", "agencies", "apikeys"] : ["users"];
  const box = h("div", { role: "tabpanel" });
  const bar = h("div", { class: "admin-tabs", role: "tablist" });
  function choose(tab: Tab): void {
    for (const a of bar.querySelectorAll("a")) {
      const on = a.dataset.tab === tab;
      a.classList.toggle("active", on);
      a.setAttribute("aria-selected", String(on));
    }
    void render(box, tab);
  }
  for (const tab of tabs)
    bar.appendChild(
      h("a", { href: "#/admin", role: "tab", dataset: { tab }, onclick: (e: Event) => { e.preventDefault(); choose(tab); } }, t("admin.tab." + tab)),
    );
  root.append(h("section", { class: "page admin" }, h("h1", null, t("admin.title")), bar, box));
  choose("users");
}
