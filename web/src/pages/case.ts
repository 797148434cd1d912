// A case as staff work it: the facts, photos and video, its place on the map, the timeline with who
// did what, and every action the state machine allows now (from GET /v1/reports/{code}/actions).
// Refusals (409 of the state machine or of a concurrent edit) come back as the API's own sentence.
import { accessToken, api, ApiError } from "../api";
import { statusWord } from "../cases";
import { fmtDateTime, t } from "../i18n";
import { field, h, replace, select, showError, toast } from "../ui";
import "../styles/cases.css";

interface Named { code: string; name: string }
interface Person { id: string; name: string | null }
interface Entry {
  kind: string;
  created_at: string;
  status?: string;
  message?: string | null;
  reason?: string | null;
  note?: string | null;
  actor_role?: string;
  text_status?: string;
  actor?: Person;
  assignee?: Person;
  from_ward?: Named;
  to_ward?: Named;
  into?: string;
}
interface MediaItem { id: string; kind: string; status: string; renditions: Record<string, string>; from_report?: string }
interface CaseView {
  code: string;
  category: Named;
  status: string;
  description: string;
  address: string | null;
  lat: number;
  lng: number;
  ward: Named;
  created_at: string;
  due: { acknowledge_by: string | null; resolve_by: string | null; overdue: boolean };
  follower_count: number;
  media: MediaItem[];
  timeline: Entry[];
  reporter?: { display_name?: string | null; phone?: string | null };
  anonymous?: boolean;
  near_boundary?: boolean;
  agency?: string | null;
  assignee_id?: string | null;
  version?: number;
  public_text?: { description: string; address: string | null };
}
interface Options {
  status: string;
  version: number;
  allowed: string[];
  reject_reasons: string[];
  transfer_reasons: string[];
  assignees: { id: string; name: string | null; role: string }[];
  wards: Named[];
}
interface Nearby { items: { code: string; category_name: string; status: string; description: string }[] }

/** A word for a code from the page's strings, the code itself when there is none. */
function word(prefix: string, code: string): string {
  const key = `${prefix}.${code}`;
  const w = t(key);
  return w === key ? code : w;
}

async function uploadPhoto(file: File): Promise<string> {
  const ticket = await api<{ id: string; method: string; url: string; headers: Record<string, string>; fields: Record<string, string> }>("/v1/uploads", {
    body: { kind: "photo", content_type: file.type || "image/jpeg", size: file.size },
  });
  let sent: Response;
  if (ticket.method === "POST") {
    const form = new FormData();
    for (const [k, v] of Object.entries(ticket.fields)) form.append(k, v);
    form.append("file", file);
    sent = await fetch(ticket.url, { method: "POST", body: form });
  } else {
    sent = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: file });
  }
  if (!sent.ok) throw new ApiError(sent.status, "upload_failed", t("common.error_status", { status: sent.status }));
  await api(`/v1/uploads/${ticket.id}/complete`, { method: "POST" });
  return ticket.id;
}

function gallery(items: MediaItem[]): HTMLElement {
  if (!items.length) return h("p", { class: "muted" }, t("case.no_media"));
  return h(
    "div",
    { class: "gallery" },
    items.map((m) => {
      const r = m.renditions;
      if (m.kind === "video" && r.video) return h("video", { src: r.video, poster: r.poster ?? "", controls: true, preload: "none" });
      const src = r.thumb ?? r.large ?? r.poster;
      if (!src) return h("span", { class: "badge" }, word("media", m.status));
      return h("a", { href: r.large_original ?? r.large ?? src, target: "_blank", rel: "noopener" }, h("img", { src, alt: m.from_report ? m.from_report : t("case.media"), loading: "lazy" }));
    }),
  );
}

function timeline(entries: Entry[]): HTMLElement {
  return h(
    "ol",
    { class: "timeline" },
    entries.map((e) =>
      h(
        "li",
        null,
        h("div", null, h("b", null, word("kind", e.kind)), e.actor?.name ? " " + t("case.by", { name: e.actor.name }) : e.actor_role && e.actor_role !== "system" ? ` (${word("role", e.actor_role)})` : "", " ", h("span", { class: "when" }, fmtDateTime(e.created_at))),
        e.assignee ? h("div", null, "→ ", e.assignee.name ?? e.assignee.id) : null,
        e.from_ward && e.to_ward ? h("div", null, `${e.from_ward.name} → ${e.to_ward.name}`) : null,
        e.into ? h("div", null, "→ ", h("a", { href: "#/case/" + e.into }, e.into)) : null,
        e.reason ? h("div", null, t("case.reason"), ": ", word("reason", e.reason)) : null,
        e.message ? h("div", null, "“", e.message, "”", e.text_status ? h("span", { class: "badge" }, t(e.text_status === "held" ? "case.held_text" : "case.hidden_text")) : null) : null,
        e.note ? h("div", { class: "note" }, "🔒 ", e.note) : null,
      ),
    ),
  );
}

async function miniMap(el: HTMLElement, view: CaseView): Promise<() => void> {
  const maplibregl = await import("maplibre-gl");
  await import("maplibre-gl/dist/maplibre-gl.css");
  const map = new maplibregl.Map({
    container: el,
    center: [view.lng, view.lat],
    zoom: 15,
    attributionControl: false,
    style: {
      version: 8,
      sources: {
        cases: { type: "vector", tiles: [`${location.origin}/v1/tiles/{z}/{x}/{y}.mvt`], minzoom: 0, maxzoom: 18 },
        here: { type: "geojson", data: { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [view.lng, view.lat] } } },
      },
      layers: [
        { id: "bg", type: "background", paint: { "background-color": "#eef3f8" } },
        { id: "wards", type: "line", source: "cases", "source-layer": "wards", paint: { "line-color": "#5b6475", "line-width": 1 } },
        { id: "others", type: "circle", source: "cases", "source-layer": "reports", paint: { "circle-radius": 4, "circle-color": "#8a94a6" } },
        { id: "here", type: "circle", source: "here", paint: { "circle-radius": 8, "circle-color": "#b3261e", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
      ],
    },
    transformRequest: (url: string) => (url.startsWith(location.origin + "/v1/") ? { url, headers: { Authorization: `Bearer ${accessToken() ?? ""}` } } : { url }),
  });
  return () => map.remove();
}

export function mount(root: HTMLElement, params: Record<string, string>): () => void {
  const code = params.code;
  const page = h("section", { class: "page case" }, h("p", { class: "loading" }, t("common.loading")));
  root.append(page);
  let cleanup: (() => void) | null = null;
  let alive = true;

  async function load(): Promise<void> {
    try {
      const view = await api<CaseView>(`/v1/reports/${encodeURIComponent(code)}`);
      let opts: Options | null = null;
      try {
        opts = await api<Options>(`/v1/reports/${encodeURIComponent(code)}/actions`);
      } catch (err) {
        if (!(err instanceof ApiError && (err.status === 403 || err.status === 404))) throw err;
      }
      if (!alive) return;
      draw(view, opts);
    } catch (err) {
      replace(page, h("p", { class: "form-error", role: "alert" }, err instanceof Error ? err.message : String(err)));
    }
  }

  function draw(view: CaseView, opts: Options | null): void {
    cleanup?.();
    cleanup = null;
    const mapBox = h("div", { class: "minimap", role: "img", "aria-label": t("case.map") });
    const assignee = opts?.assignees.find((a) => a.id === view.assignee_id);
    replace(
      page,
      h("p", null, h("a", { href: "#/queue" }, t("case.back"))),
      h(
        "div",
        { class: "page-head" },
        h("h1", null, view.code),
        h("span", { class: "badge status-" + view.status, "data-testid": "case-status" }, statusWord(view.status)),
        view.due.overdue ? h("span", { class: "badge overdue" }, t("queue.overdue_badge")) : null,
      ),
      h(
        "div",
        { class: "case-grid" },
        h(
          "div",
          null,
          h(
            "dl",
            { class: "case-facts" },
            h("dt", null, t("case.category")), h("dd", null, view.category.name),
            h("dt", null, t("case.ward")), h("dd", null, view.ward.name),
            h("dt", null, t("case.address")), h("dd", null, view.address ?? "—"),
            h("dt", null, t("case.received")), h("dd", null, fmtDateTime(view.created_at)),
            h("dt", null, t("case.ack_by")), h("dd", null, fmtDateTime(view.due.acknowledge_by)),
            h("dt", null, t("case.resolve_by")), h("dd", null, fmtDateTime(view.due.resolve_by)),
            h("dt", null, t("case.reporter")), h("dd", null, view.anonymous ? t("case.anonymous") + " · " : "", view.reporter?.display_name ?? "—", view.reporter?.phone ? ` · ${view.reporter.phone}` : ""),
            h("dt", null, t("case.assignee")), h("dd", null, assignee?.name ?? (view.assignee_id ? view.assignee_id : t("case.unassigned"))),
            h("dt", null, t("case.followers")), h("dd", null, String(view.follower_count)),
            view.agency ? [h("dt", null, t("case.agency")), h("dd", null, view.agency)] : null,
          ),
          view.near_boundary ? h("p", { class: "conflict" }, t("case.near_boundary")) : null,
          h("div", { class: "case-text", "data-testid": "case-description" }, view.description),
          view.public_text && view.public_text.description !== view.description
            ? h("p", { class: "muted" }, t("case.public_text"), ": ", view.public_text.description)
            : null,
          h("h2", null, t("case.media")),
          gallery(view.media),
          h("h2", null, t("case.map")),
          mapBox,
          h("h2", null, t("case.timeline")),
          timeline(view.timeline),
        ),
        h("aside", { class: "actions", "aria-label": t("case.actions") }, opts ? actions(view, opts) : null),
      ),
    );
    miniMap(mapBox, view)
      .then((stop) => {
        if (alive) cleanup = stop;
        else stop();
      })
      .catch(() => mapBox.replaceChildren(h("p", { class: "muted" }, `${view.lat}, ${view.lng}`)));
  }

  function actions(view: CaseView, opts: Options): HTMLElement[] {
    const allowed = new Set(opts.allowed);
    if (!allowed.size) return [h("p", { class: "muted" }, t("case.no_actions"))];
    const out: HTMLElement[] = [];
    const conflictBox = h("div", { role: "alert" });
    out.push(conflictBox);

    async function run(body: Record<string, unknown>, button: HTMLButtonElement): Promise<void> {
      button.disabled = true;
      try {
        await api(`/v1/reports/${encodeURIComponent(view.code)}/actions`, { body: { ...body, version: opts.version } });
        toast(t("case.done", { action: word("action", String(body.action)) }), "info");
        await load();
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) {
          // the state machine or a concurrent edit: the API's own sentence, and a way to catch up
          replace(conflictBox, h("div", { class: "conflict" }, h("p", null, err.message), err.code === "version_conflict" ? h("p", null, t("case.conflict")) : null, h("button", { type: "button", class: "secondary", onclick: () => void load() }, t("case.reload"))));
        } else showError(err);
      } finally {
        button.disabled = false;
      }
    }

    function card(action: string, ...controls: (HTMLElement | null)[]): HTMLElement {
      const button = h("button", { type: "submit", class: "primary", "data-action": action }, word("action", action));
      const form = h("form", { class: "card", "data-testid": "action-" + action }, h("h2", null, word("action", action)), ...controls, button);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        void submit(action, form, button);
      });
      return form;
    }

    async function submit(action: string, form: HTMLFormElement, button: HTMLButtonElement): Promise<void> {
      const data = new FormData(form);
      const body: Record<string, unknown> = { action };
      for (const name of ["message", "note", "reason", "ward", "into", "assignee"]) {
        const v = data.get(name);
        if (typeof v === "string" && v.trim()) body[name] = v.trim();
      }
      const files = (form.querySelector("input[type=file]") as HTMLInputElement | null)?.files;
      if (files && files.length) {
        button.disabled = true;
        toast(t("case.uploading"), "info");
        try {
          body.media_ids = await Promise.all(Array.from(files).map(uploadPhoto));
        } catch (err) {
          showError(err);
          button.disabled = false;
          return;
        }
      }
      await run(body, button);
    }

    const message = () => field(t("case.message"), h("textarea", { name: "message", maxlength: 4000 }));
    const note = () => field(t("case.note"), h("textarea", { name: "note", maxlength: 4000 }));
    if (allowed.has("acknowledge")) out.push(card("acknowledge", message()));
    if (allowed.has("start")) out.push(card("start", message()));
    if (allowed.has("resolve"))
      out.push(card("resolve", message(), field(t("case.photos"), h("input", { type: "file", name: "photos", accept: "image/jpeg,image/png,image/webp,image/heic", multiple: true })), note()));
    if (allowed.has("assign"))
      out.push(card("assign", field(t("case.assign_to"), select("assignee", opts.assignees.map((a): [string, string] => [a.id, `${a.name ?? a.id} (${word("role", a.role)})`]), view.assignee_id ?? ""))));
    if (allowed.has("comment")) out.push(card("comment", message(), note()));
    if (allowed.has("transfer"))
      out.push(
        card(
          "transfer",
          field(t("case.to_ward"), select("ward", opts.wards.map((w): [string, string] => [w.code, w.name]))),
          field(t("case.reason"), select("reason", opts.transfer_reasons.map((r): [string, string] => [r, word("reason", r)]))),
          note(),
        ),
      );
    if (allowed.has("merge")) {
      const list = h("ul", { class: "dupes" }, h("li", { class: "muted" }, t("common.loading")));
      const into = h("input", { name: "into", required: true, pattern: "[A-Za-z0-9-]+", autocomplete: "off" });
      out.push(card("merge", h("p", null, t("case.nearby")), list, field(t("case.into"), into), message()));
      api<Nearby>("/v1/reports", { query: { near: `${view.lat},${view.lng}`, radius: 300, status: "new,acknowledged,in_progress", limit: 10 } })
        .then((near) => {
          const others = near.items.filter((r) => r.code !== view.code);
          replace(
            list,
            others.length
              ? others.map((r) => h("li", null, h("button", { type: "button", class: "secondary", onclick: () => (into.value = r.code) }, r.code), h("span", null, `${r.category_name} · ${statusWord(r.status)} · ${r.description.slice(0, 60)}`)))
              : h("li", { class: "muted" }, t("case.no_nearby")),
          );
        })
        .catch(() => replace(list, h("li", { class: "muted" }, t("case.no_nearby"))));
    }
    if (allowed.has("reject"))
      out.push(card("reject", field(t("case.reason"), select("reason", opts.reject_reasons.map((r): [string, string] => [r, word("reason", r)]))), message(), note()));
    for (const extra of opts.allowed.filter((a) => !["acknowledge", "start", "resolve", "assign", "comment", "transfer", "merge", "reject"].includes(a)))
      out.push(card(extra, field(t("case.reason"), h("input", { name: "reason", maxlength: 200 })), message(), note()));
    return out;
  }

  void load();
  return () => {
    alive = false;
    cleanup?.();
  };
}
