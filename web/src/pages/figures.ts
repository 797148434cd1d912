// Figures: per ward and per category with names, a trend by day or week, and the export links of
// exactly the filters shown (the filters are the map's: one selection for both pages).
import { categories, overduePct, rowName, stats, total, wardsOf, type StatsOut, type StatsRow } from "../data";
import { exportLinks, filterForm } from "../filterbar";
import { dateRange, filters, localDate, setFilters, type Filters } from "../filters";
import { fmtNumber, lang, t } from "../i18n";
import { h, replace, showError, svg } from "../ui";

type Step = "day" | "week";
const STEP_KEY = "phananh.console.figures.step";

interface Bucket {
  start: string; // first local day, YYYY-MM-DD
  received: number;
  resolved: number;
}

export function mount(root: HTMLElement): () => void {
  let step: Step = sessionStorage.getItem(STEP_KEY) === "week" ? "week" : "day";
  let abort: AbortController | null = null;

  const filterBox = h("div", { class: "filter-box" });
  const exportsBox = h("div");
  const totals = h("div", { class: "summary wide", "data-testid": "figures-summary", "aria-live": "polite" });
  const trendBox = h("div", { class: "trend" });
  const stepButtons = h("div", { class: "segmented", role: "group", "aria-label": t("figures.trend_step") });
  const wardTable = h("div", { class: "table-wrap" });
  const categoryTable = h("div", { class: "table-wrap" });

  root.append(
    h(
      "section",
      { class: "page figures-page" },
      h("h1", null, t("nav.figures")),
      h("div", { class: "figures-filters" }, filterBox, exportsBox),
      totals,
      h("div", { class: "trend-head" }, h("h2", null, t("figures.trend")), stepButtons),
      trendBox,
      h("div", { class: "tables" }, h("section", null, h("h2", null, t("figures.by_ward")), wardTable), h("section", null, h("h2", null, t("figures.by_category")), categoryTable)),
    ),
  );

  function drawStepButtons(): void {
    replace(
      stepButtons,
      (["day", "week"] as Step[]).map((s) =>
        h(
          "button",
          {
            type: "button",
            class: s === step ? "secondary active" : "secondary",
            "aria-pressed": String(s === step),
            onclick: () => {
              step = s;
              sessionStorage.setItem(STEP_KEY, s);
              drawStepButtons();
              void load();
            },
          },
          t(`figures.step.${s}`),
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    abort?.abort();
    const a = (abort = new AbortController());
    const f = filters();
    const trendFilters: Filters = f.period === "all" ? { ...f, period: "365" } : f;
    try {
      const [wards, cats, days, catNames] = await Promise.all([
        stats("ward", f, a.signal),
        stats("category", f, a.signal),
        stats("day", trendFilters, a.signal),
        categories(),
      ]);
      if (a.signal.aborted) return;
      const wardNames = await wardsOf(wards);
      replace(filterBox, filterForm(wardNames, catNames));
      replace(exportsBox, exportLinks(f));
      drawTotals(wards);
      replace(
        trendBox,
        h(
          "ul",
          { class: "chart-legend" },
          h("li", null, h("span", { class: "key bar" }), t("fig.received")),
          h("li", null, h("span", { class: "key line" }), t("figures.resolved_of_received")),
        ),
        trendChart(buckets(days, trendFilters, step)),
      );
      replace(wardTable, table(wards.groups, (r) => rowName(r, wardNames), "ward", (code) => setFilters({ ward: code })));
      replace(categoryTable, table(cats.groups, (r) => rowName(r, catNames), "category", (code) => setFilters({ category: code })));
    } catch (err) {
      if (!a.signal.aborted) showError(err);
    }
  }

  function drawTotals(out: StatsOut): void {
    const all = total(out);
    const item = (label: string, value: string) =>
      h("div", { class: "stat" }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
    replace(
      totals,
      item(t("fig.received"), fmtNumber(all.received)),
      item(t("fig.open"), fmtNumber(all.open)),
      item(t("fig.overdue"), fmtNumber(all.overdue)),
      item(t("fig.resolved"), fmtNumber(all.resolved)),
      item(t("fig.on_time_pct"), pct(all.resolved_on_time_pct)),
    );
  }

  window.addEventListener("filterschange", load);
  drawStepButtons();
  void load();
  return () => {
    window.removeEventListener("filterschange", load);
    abort?.abort();
  };
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : `${fmtNumber(v)} %`;
}

function hours(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : t("fig.hours", { n: fmtNumber(v, v < 10 ? 1 : 0) });
}

/** A table of figures, one row per group; rows with nothing received are shown muted, not left out. */
function table(rows: StatsRow[], name: (r: StatsRow) => string, kind: "ward" | "category", pick: (code: string) => void): HTMLElement {
  const sorted = [...rows].sort((a, b) => b.received - a.received || name(a).localeCompare(name(b), "vi"));
  const num = (v: string) => h("td", { class: "num" }, v);
  return h(
    "table",
    { class: "data", "data-testid": `figures-${kind}` },
    h("caption", { class: "visually-hidden" }, t(kind === "ward" ? "figures.by_ward" : "figures.by_category")),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, t(kind === "ward" ? "filters.ward" : "filters.category")),
        ...["fig.received", "fig.open", "fig.overdue", "fig.overdue_pct", "fig.resolved", "fig.on_time_pct", "fig.median_resolve"].map((k) =>
          h("th", { scope: "col", class: "num" }, t(k)),
        ),
      ),
    ),
    h(
      "tbody",
      null,
      sorted.length === 0 ? h("tr", null, h("td", { colspan: 8, class: "muted" }, t("common.none"))) : null,
      sorted.map((r) =>
        h(
          "tr",
          { class: r.received ? "" : "zero", dataset: { key: r.key ?? "" } },
          h(
            "th",
            { scope: "row" },
            r.key
              ? h("button", { type: "button", class: "link", title: t("figures.filter_by"), onclick: () => pick(r.key!) }, name(r))
              : name(r),
          ),
          num(fmtNumber(r.received)),
          num(fmtNumber(r.open)),
          num(fmtNumber(r.overdue)),
          num(pct(overduePct(r))),
          num(fmtNumber(r.resolved)),
          num(pct(r.resolved_on_time_pct)),
          num(hours(r.median_resolve_hours)),
        ),
      ),
    ),
  );
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function monday(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  return addDays(day, -((d.getUTCDay() + 6) % 7));
}

/** Every day (or week, from Monday) of the window with its figures, zeros where the server sent none. */
function buckets(out: StatsOut, f: Filters, step: Step): Bucket[] {
  const { from, to } = dateRange(f.period);
  const last = to ?? localDate(new Date());
  const first = from ?? addDays(last, -29);
  const byDay = new Map<string, StatsRow>();
  for (const r of out.groups) {
    const key = r.start ?? r.key;
    if (key) byDay.set(key.slice(0, 10), r);
  }
  const result = new Map<string, Bucket>();
  for (let day = first; day <= last; day = addDays(day, 1)) {
    const key = step === "week" ? monday(day) : day;
    const b = result.get(key) ?? { start: key, received: 0, resolved: 0 };
    const r = byDay.get(day);
    if (r) {
      b.received += r.received;
      b.resolved += r.resolved;
    }
    result.set(key, b);
  }
  return [...result.values()];
}

/** Bars of the cases received, a line of those resolved (of the cases received that day or week). */
function trendChart(data: Bucket[]): SVGElement {
  const W = 900;
  const H = 220;
  const pad = { l: 40, r: 12, t: 12, b: 34 };
  const top = Math.max(1, ...data.map((d) => Math.max(d.received, d.resolved)));
  const nice = top <= 5 ? top : Math.ceil(top / 5) * 5;
  const bw = (W - pad.l - pad.r) / Math.max(1, data.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / nice);
  const x = (i: number) => pad.l + i * bw;
  const locale = lang() === "en" ? "en-GB" : "vi-VN";
  const label = (day: string) => new Date(`${day}T12:00:00Z`).toLocaleDateString(locale, { day: "numeric", month: "numeric" });
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "trend-chart",
    role: "img",
    "aria-label": t("figures.trend_desc", { n: data.reduce((s, d) => s + d.received, 0) }),
    "data-testid": "trend-chart",
  });
  for (const v of [0, nice / 2, nice]) {
    chart.appendChild(svg("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "grid" }));
    const tick = svg("text", { x: pad.l - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" });
    tick.textContent = fmtNumber(v);
    chart.appendChild(tick);
  }
  const every = Math.max(1, Math.ceil(data.length / 10));
  data.forEach((d, i) => {
    const bar = svg("rect", { x: x(i) + bw * 0.12, y: y(d.received), width: Math.max(1, bw * 0.76), height: y(0) - y(d.received), class: "bar" });
    const title = svg("title");
    title.textContent = `${label(d.start)}: ${t("fig.received")} ${d.received}, ${t("fig.resolved")} ${d.resolved}`;
    bar.appendChild(title);
    chart.appendChild(bar);
    if (i % every === 0) {
      const tick = svg("text", { x: x(i) + bw / 2, y: H - pad.b + 16, class: "tick", "text-anchor": "middle" });
      tick.textContent = label(d.start);
      chart.appendChild(tick);
    }
  });
  const points = data.map((d, i) => `${x(i) + bw / 2},${y(d.resolved)}`).join(" ");
  chart.appendChild(svg("polyline", { points, class: "line" }));
  return chart;
}
