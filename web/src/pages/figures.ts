// Placeholder: the officers' pages are built on this skeleton by another change (see web/README.md).
import { t } from "../i18n";
import { h } from "../ui";

export function mount(root: HTMLElement, params: Record<string, string>): void {
  root.append(
    h("section", { class: "page placeholder" }, h("h1", null, t("nav.figures")), h("p", { class: "muted" }, t("common.coming"), params.code ? " " + params.code : "")),
  );
}
