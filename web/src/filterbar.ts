// The filter form the map and the figures pages share, and the export links of its selection.
import { download } from "./api";
import { exportPath } from "./data";
import { filters, periodOptions, setFilters, statusOptions, type Filters } from "./filters";
import { t } from "./i18n";
import { field, h, select, showError } from "./ui";

/** The form: category, status, period, ward, overdue only. Every change goes to `setFilters`. */
export function filterForm(wards: Map<string, string>, categories: Map<string, string>): HTMLElement {
  const f = filters();
  const byName = (m: Map<string, string>) => [...m.entries()].sort((a, b) => a[1].localeCompare(b[1], "vi"));
  const category = select("category", [["", t("common.all")], ...byName(categories)], f.category);
  const status = select("status", statusOptions(), f.status);
  const period = select("period", periodOptions(), f.period);
  const ward = select("ward", [["", t("filters.all_wards")], ...byName(wards)], f.ward);
  const overdue = h("input", { type: "checkbox", name: "overdue", id: "filter-overdue", checked: f.overdue });
  const onChange = () =>
    setFilters({ category: category.value, status: status.value, period: period.value, ward: ward.value, overdue: overdue.checked });
  for (const el of [category, status, period, ward, overdue]) el.addEventListener("change", onChange);
  return h(
    "form",
    { class: "filters", "aria-label": t("filters.title"), onsubmit: (e: Event) => e.preventDefault() },
    field(t("filters.category"), category),
    field(t("filters.status"), status),
    field(t("filters.period"), period),
    field(t("filters.ward"), ward),
    h("div", { class: "check" }, overdue, h("label", { for: overdue.id }, t("filters.overdue"))),
  );
}

/** CSV and GeoJSON links of exactly `f` (the href shows the query; a click downloads with the token). */
export function exportLinks(f: Filters): HTMLElement {
  const link = (kind: "csv" | "geojson") => {
    const href = exportPath(kind, f);
    return h(
      "a",
      {
        class: "button secondary",
        href,
        "data-testid": `export-${kind}`,
        onclick: (e: Event) => {
          e.preventDefault();
          const [path, qs] = href.split("?");
          download(path, Object.fromEntries(new URLSearchParams(qs ?? "")), `phananh-${new Date().toISOString().slice(0, 10)}.${kind}`).catch(showError);
        },
      },
      t(`export.${kind}`),
    );
  };
  return h("div", { class: "exports" }, h("span", { class: "muted" }, t("export.title")), link("csv"), link("geojson"));
}
