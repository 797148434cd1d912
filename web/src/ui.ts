// Small DOM helpers: no framework, pages build their DOM with `h` and redraw what changed.
import { t } from "./i18n";

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown> | null;

/** An element: `h("button", { type: "button", onclick: f, class: "x" }, "text", child)`.
 * Keys starting with "on" are listeners; `dataset`/`style` objects are merged; booleans toggle the
 * attribute; null/undefined/false are left out. Children may be nested arrays, strings or nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "style" && typeof value === "object") {
      Object.assign(el.style, value);
    } else if (key === "class") {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else if (key in el && key !== "list" && key !== "form") {
      (el as unknown as Record<string, unknown>)[key] = value;
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** SVG elements (charts, legends). */
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Node[]): SVGElement {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(c);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A short message at the bottom of the screen; errors stay until dismissed or for 8 s. */
export function toast(message: string, kind: "error" | "info" = "error"): void {
  const box = document.getElementById("toasts");
  if (!box) return;
  const close = h("button", { type: "button", class: "toast-close", "aria-label": t("common.close") }, "×");
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", null, message), close);
  close.addEventListener("click", () => item.remove());
  box.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

/** Shows an error from `api()` (or anything thrown) as a toast, in the chosen language. */
export function showError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  toast(message || t("common.error"));
}

/** A labelled form field: `field(t("x"), h("input", {name: "x"}))`: the label is tied to the control. */
let fieldSeq = 0;
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  if (!control.id) control.id = `f${++fieldSeq}`;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint ? h("small", null, hint) : null);
}

/** A <select> of (value, label) options. */
export function select(name: string, options: [string, string][], value = ""): HTMLSelectElement {
  const el = h("select", { name });
  for (const [v, label] of options) el.appendChild(h("option", { value: v, selected: v === value }, label));
  return el;
}
