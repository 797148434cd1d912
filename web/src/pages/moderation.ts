// Moderators: the reports and messages held from the public, why, and the three ways out (publish,
// redact then publish, hide). Masking of personal data happens on the server whatever is chosen.
import { api } from "../api";
import { fmtDateTime, t } from "../i18n";
import { field, h, replace, showError, toast } from "../ui";
import "../styles/cases.css";

interface Item {
  kind: "report" | "message";
  code: string;
  category: string;
  description: string;
  address: string | null;
  ward: string | null;
  status: string;
  held_for: string[];
  held_since: string;
  event_id: string | null;
  event_kind: string | null;
  message: string | null;
}

function word(prefix: string, code: string): string {
  const key = `${prefix}.${code}`;
  const w = t(key);
  return w === key ? code : w;
}

export function mount(root: HTMLElement): void {
  const list = h("div", { class: "mod-list", "data-testid": "moderation-queue" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("moderation.more"));
  let cursor: string | null = null;

  async function act(code: string, body: Record<string, unknown> | Record<string, unknown>[], card: HTMLElement): Promise<void> {
    for (const b of card.querySelectorAll("button")) b.disabled = true;
    try {
      // a redaction changes what the public would read; publishing it is a second step
      for (const step of Array.isArray(body) ? body : [body]) await api(`/v1/moderation/${encodeURIComponent(code)}`, { body: step });
      toast(t("moderation.done", { code }), "info");
      card.remove();
      if (!list.children.length) void load();
    } catch (err) {
      showError(err);
      for (const b of card.querySelectorAll("button")) b.disabled = false;
    }
  }

  function card(it: Item): HTMLElement {
    const reason = h("input", { name: "reason", maxlength: 1000 });
    const box = h("article", { class: "card mod-item", dataset: { code: it.code } });
    const reasonValue = () => reason.value.trim() || undefined;
    const buttons: HTMLElement[] = [];
    let editor: HTMLElement | null = null;
    if (it.kind === "report") {
      const description = h("textarea", { name: "description", maxlength: 2000 }, it.description);
      const address = h("input", { name: "address", maxlength: 300, value: it.address ?? "" });
      editor = h(
        "div",
        { class: "redact" },
        field(t("moderation.redact_description"), description),
        field(t("moderation.redact_address"), address),
      );
      buttons.push(
        h("button", { type: "button", class: "primary", onclick: () => void act(it.code, { action: "publish", reason: reasonValue() }, box) }, t("moderation.publish")),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () =>
              void act(
                it.code,
                [
                  { action: "redact", description: description.value.trim(), address: address.value.trim(), reason: reasonValue() },
                  { action: "publish", reason: reasonValue() },
                ],
                box,
              ),
          },
          t("moderation.redact"),
        ),
        h("button", { type: "button", class: "secondary danger", onclick: () => void act(it.code, { action: "hide", reason: reasonValue() }, box) }, t("moderation.hide")),
      );
    } else {
      buttons.push(
        h("button", { type: "button", class: "primary", onclick: () => void act(it.code, { action: "publish_message", event_id: it.event_id, reason: reasonValue() }, box) }, t("moderation.publish")),
        h("button", { type: "button", class: "secondary danger", onclick: () => void act(it.code, { action: "hide_message", event_id: it.event_id, reason: reasonValue() }, box) }, t("moderation.hide")),
      );
    }
    replace(
      box,
      h(
        "header",
        { class: "page-head" },
        h("h2", null, it.code),
        h("span", { class: "badge" }, t(it.kind === "report" ? "moderation.kind_report" : "moderation.kind_message")),
        h("a", { href: "#/case/" + it.code }, t("moderation.open_case")),
      ),
      h("p", null, h("b", null, t("moderation.held_for"), ": "), it.held_for.map((r) => word("held", r)).join(", "), " · ", t("moderation.held_since"), " ", fmtDateTime(it.held_since)),
      h("div", { class: "case-text" }, it.kind === "report" ? it.description : it.message ?? ""),
      editor,
      field(t("moderation.reason"), reason),
      h("div", { class: "action-row" }, buttons),
    );
    return box;
  }

  async function load(append = false): Promise<void> {
    try {
      const out = await api<{ items: Item[]; next_cursor: string | null }>("/v1/moderation/queue", { query: { cursor: append ? cursor ?? undefined : undefined, limit: 20 } });
      cursor = out.next_cursor;
      more.hidden = !cursor;
      if (!append) list.replaceChildren();
      for (const it of out.items) list.appendChild(card(it));
      if (!list.children.length) list.appendChild(h("p", { class: "muted" }, t("moderation.empty")));
    } catch (err) {
      showError(err);
    }
  }
  more.addEventListener("click", () => void load(true));

  // any report can be redacted, held or not: open it by code
  const code = h("input", { name: "code", required: true, pattern: "[A-Za-z0-9-]+", autocomplete: "off" });
  const byCode = h("form", { class: "card by-code" }, h("h2", null, t("moderation.by_code")), field(t("moderation.code"), code), h("button", { type: "submit", class: "secondary" }, t("moderation.open_case")));
  byCode.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = "#/case/" + code.value.trim().toUpperCase();
  });

  root.append(h("section", { class: "page moderation" }, h("h1", null, t("moderation.title")), h("p", { class: "muted" }, t("moderation.intro")), list, more, byCode));
  void load();
}
