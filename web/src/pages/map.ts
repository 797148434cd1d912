// The leaders' map: wards coloured by a chosen figure, the cases on top (clusters with counts at low
// zoom, single cases coloured by their deadline from zoom 14), the shared filters driving the tiles,
// the figures and the export links together. Offline by default: the wards are the base map; a street
// basemap comes only from PHANANH_MAP_STYLE_URL (GET /v1/console/config).
//
// The tiles (GET /v1/tiles/{z}/{x}/{y}.mvt): layer `reports` holds clusters (`cluster`, `count`,
// `open_count`, `overdue_count`) at low zoom and cases (`code`, `status`, `category`, `ward`, `overdue`,
// `open`, `deadline_state`) from zoom 14; layer `wards` the boundaries in scope (`code`, `name`).
// Every property may be absent from an older server: the styles fall back (a case without
// `deadline_state` is coloured from `overdue`/`open`), and wards without a `wards` layer are drawn from
// GET /v1/areas/{code}?geometry=true.
import * as maplibreModule from "maplibre-gl";
import type { GeoJSONSource, LngLatBoundsLike, MapGeoJSONFeature, StyleSpecification } from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";

// MapLibre 5 is one UMD bundle (its worker inside, started from a blob: URL, hence the CSP's
// worker-src blob:); the bundler hands it over as the default export. MapLibre 6 splits into an ESM
// library and a worker module that together weigh 466 KB gzipped, over the console's budget.
const maplibregl = ((maplibreModule as unknown as { default?: typeof maplibreModule }).default ?? maplibreModule) as typeof maplibreModule;
import { accessToken, api, consoleConfig, session, withQuery } from "../api";
import { categories, learnAreaName, overduePct, rowName, stats, total, wardsOf, type StatsOut, type StatsRow } from "../data";
import { exportLinks, filterForm } from "../filterbar";
import { caseQuery, filters, setFilters, type Filters } from "../filters";
import { fmtDateTime, fmtNumber, t } from "../i18n";
import { h, replace, select, showError, field } from "../ui";

declare global {
  interface Window {
    phananhMap?: maplibregl.Map;
  }
}

type GeoJSONGeometry = { type: "Polygon" | "MultiPolygon"; coordinates: unknown };
type Figure = "open" | "overdue_pct" | "on_time_pct";
const FIGURES: Figure[] = ["open", "overdue_pct", "on_time_pct"];
const FIGURE_KEY = "phananh.console.map.figure";
const SOURCE = "cases";
const WARDS_GEO = "wards-geo";
const CLUSTER_BELOW = 14;
const HOME_VIEW: LngLatBoundsLike = [106.6, 10.7, 106.8, 10.85]; // central Hồ Chí Minh City

export const DEADLINE_COLOURS: Record<string, string> = {
  on_time: "#2e9d4f",
  due_soon: "#e69b00",
  overdue: "#d93025",
  closed: "#8a94a6",
};
// light → dark; for "on time" the scale is read the other way (more is better)
const SCALE = ["#eef3fb", "#c9daf0", "#93b6e0", "#5589c9", "#2a5ea8"];
const SCALE_GOOD = ["#fbeceb", "#f5c6c2", "#e7d9a6", "#a8d5b0", "#4fa866"];

/** A case's colour: its `deadline_state`, else worked out from `open` and `overdue`. */
const POINT_COLOUR: unknown = [
  "case",
  ["has", "deadline_state"],
  ["match", ["get", "deadline_state"], "overdue", DEADLINE_COLOURS.overdue, "due_soon", DEADLINE_COLOURS.due_soon, "closed", DEADLINE_COLOURS.closed, DEADLINE_COLOURS.on_time],
  ["==", ["get", "open"], false],
  DEADLINE_COLOURS.closed,
  ["==", ["get", "overdue"], true],
  DEADLINE_COLOURS.overdue,
  DEADLINE_COLOURS.on_time,
];

function tileUrl(f: Filters): string {
  const q = caseQuery(f);
  delete q.area; // tiles know a ward as `ward`
  return location.origin + withQuery("/v1/tiles/{z}/{x}/{y}.mvt", q);
}

function baseStyle(f: Filters): StyleSpecification {
  return {
    version: 8,
    sources: {
      [SOURCE]: { type: "vector", tiles: [tileUrl(f)], minzoom: 0, maxzoom: 16 },
      [WARDS_GEO]: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef0f3" } },
      ...wardLayers("tile", SOURCE, "wards"),
      ...wardLayers("geo", WARDS_GEO),
      {
        id: "clusters",
        type: "circle",
        source: SOURCE,
        "source-layer": "reports",
        filter: ["==", ["get", "cluster"], true],
        paint: {
          "circle-color": ["case", [">", ["coalesce", ["get", "overdue_count"], 0], 0], "#c2410c", "#1d5fa8"],
          "circle-opacity": 0.85,
          // a cell holding one case is a small dot; more cases, a bigger circle with its count
          "circle-radius": ["interpolate", ["linear"], ["sqrt", ["coalesce", ["get", "count"], 1]], 1, 6, 1.42, 11, 10, 26, 40, 40],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 2,
        },
      },
      {
        id: "cases",
        type: "circle",
        source: SOURCE,
        "source-layer": "reports",
        filter: ["!=", ["get", "cluster"], true],
        paint: {
          "circle-color": POINT_COLOUR as never,
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 4, 16, 8, 19, 11],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 1.5,
        },
      },
    ],
  } as StyleSpecification;
}

function wardLayers(name: string, source: string, sourceLayer?: string): StyleSpecification["layers"] {
  const from = sourceLayer ? { "source-layer": sourceLayer } : {};
  return [
    { id: `wards-${name}-fill`, type: "fill", source, ...from, paint: { "fill-color": "#dde3ea", "fill-opacity": 0.75 } },
    {
      id: `wards-${name}-line`,
      type: "line",
      source,
      ...from,
      paint: { "line-color": "#50607a", "line-width": ["interpolate", ["linear"], ["zoom"], 9, 0.6, 15, 2] },
    },
  ] as StyleSpecification["layers"];
}

function figureValue(r: StatsRow | undefined, figure: Figure): number | null {
  if (!r) return null;
  if (figure === "open") return r.open;
  if (figure === "overdue_pct") return overduePct(r);
  return r.resolved_on_time_pct ?? null;
}

/** Upper edges of the first four of five classes: whole steps for counts, 20 % steps for shares. */
function breaks(values: number[], figure: Figure): number[] {
  const step = figure === "open" ? Math.max(1, Math.ceil(Math.max(0, ...values) / 5)) : 20;
  return [1, 2, 3, 4].map((i) => i * step);
}

function classOf(v: number, b: number[]): number {
  let i = 0;
  while (i < b.length && v >= b[i]) i++;
  return i;
}

export function mount(root: HTMLElement): () => void {
  const s = session()!;
  let figure: Figure = (sessionStorage.getItem(FIGURE_KEY) as Figure) || "open";
  if (!FIGURES.includes(figure)) figure = "open";
  let wardStats: StatsOut | null = null;
  let wardNames = new Map<string, string>();
  let categoryNames = new Map<string, string>();
  let map: maplibregl.Map | null = null;
  let geoFallback = false;
  let statsAbort: AbortController | null = null;
  const markers = new Map<string, maplibregl.Marker>();

  const filterBox = h("div", { class: "filter-box" });
  const figureSelect = select(
    "figure",
    FIGURES.map((f): [string, string] => [f, t(`map.figure.${f}`)]),
    figure,
  );
  const summary = h("div", { class: "summary", "data-testid": "map-summary", "aria-live": "polite" });
  const legend = h("div", { class: "legend" });
  const exportsBox = h("div");
  const detail = h("div", { class: "detail", "aria-live": "polite" });
  const mapEl = h("div", { class: "map", "data-testid": "leaders-map", role: "region", "aria-label": t("map.title") });

  root.append(
    h(
      "section",
      { class: "map-page" },
      h(
        "aside",
        { class: "side", "aria-label": t("filters.title") },
        h("h1", null, t("map.title")),
        filterBox,
        field(t("map.figure"), figureSelect),
        summary,
        exportsBox,
        legend,
      ),
      h("div", { class: "map-wrap" }, mapEl, detail),
    ),
  );

  figureSelect.addEventListener("change", () => {
    figure = figureSelect.value as Figure;
    sessionStorage.setItem(FIGURE_KEY, figure);
    paintWards();
  });

  // --- figures ---------------------------------------------------------------------------------

  async function loadFigures(): Promise<void> {
    statsAbort?.abort();
    const abort = (statsAbort = new AbortController());
    const f = filters();
    try {
      const [out, cats] = await Promise.all([stats("ward", f, abort.signal), categories()]);
      if (abort.signal.aborted) return;
      wardStats = out;
      categoryNames = cats;
      wardNames = await wardsOf(out);
      drawFilters();
      drawSummary();
      paintWards();
      if (geoFallback) void loadWardShapes();
    } catch (err) {
      if (!abort.signal.aborted) showError(err);
    }
  }

  function drawFilters(): void {
    replace(filterBox, filterForm(wardNames, categoryNames));
    replace(exportsBox, exportLinks(filters()));
  }

  function drawSummary(): void {
    if (!wardStats) return;
    const all = total(wardStats);
    const item = (label: string, value: string, cls = "") =>
      h("div", { class: `stat ${cls}` }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
    replace(
      summary,
      item(t("fig.received"), fmtNumber(all.received)),
      item(t("fig.open"), fmtNumber(all.open)),
      item(t("fig.overdue"), fmtNumber(all.overdue), all.overdue ? "bad" : ""),
      item(t("fig.on_time_pct"), all.resolved_on_time_pct === null ? "—" : `${fmtNumber(all.resolved_on_time_pct)} %`),
    );
  }

  function paintWards(): void {
    if (!map || !wardStats) return;
    const byCode = new Map(wardStats.groups.map((r) => [r.key ?? "", r]));
    const values = wardStats.groups.map((r) => figureValue(r, figure)).filter((v): v is number => v !== null);
    const b = breaks(values, figure);
    const palette = figure === "on_time_pct" ? SCALE_GOOD : SCALE;
    const match: unknown[] = ["match", ["get", "code"]];
    for (const [code, r] of byCode) {
      const v = figureValue(r, figure);
      if (code && v !== null) match.push(code, palette[classOf(v, b)]);
    }
    const colour = match.length > 2 ? [...match, "#dde3ea"] : "#dde3ea";
    const selected = filters().ward;
    for (const name of ["tile", "geo"]) {
      if (!map.getLayer(`wards-${name}-fill`)) continue;
      map.setPaintProperty(`wards-${name}-fill`, "fill-color", colour as never);
      map.setPaintProperty(`wards-${name}-line`, "line-width", (selected
        ? ["case", ["==", ["get", "code"], selected], 3.5, ["interpolate", ["linear"], ["zoom"], 9, 0.6, 15, 2]]
        : ["interpolate", ["linear"], ["zoom"], 9, 0.6, 15, 2]) as never);
    }
    drawLegend(b, palette);
  }

  function drawLegend(b: number[], palette: string[]): void {
    const pct = figure !== "open";
    const label = (i: number): string => {
      const low = i === 0 ? 0 : b[i - 1];
      if (i === b.length) return `≥ ${fmtNumber(low)}${pct ? " %" : ""}`;
      if (pct) return `${fmtNumber(low)}–${fmtNumber(b[i])} %`;
      return b[i] - low === 1 ? fmtNumber(low) : `${fmtNumber(low)}–${fmtNumber(b[i] - 1)}`;
    };
    const swatch = (colour: string) => {
      const el = h("span", { class: "swatch" });
      el.style.background = colour;
      return el;
    };
    replace(
      legend,
      h("h2", null, t(`map.figure.${figure}`)),
      h(
        "ul",
        { class: "legend-list" },
        palette.map((c, i) => h("li", null, swatch(c), label(i))),
      ),
      h("h2", null, t("map.cases")),
      h(
        "ul",
        { class: "legend-list" },
        Object.entries(DEADLINE_COLOURS).map(([k, c]) => {
          const dot = swatch(c);
          dot.classList.add("dot");
          return h("li", null, dot, t(`map.deadline.${k}`));
        }),
        h("li", null, h("span", { class: "swatch dot cluster" }), t("map.cluster")),
      ),
    );
  }

  // --- the map ---------------------------------------------------------------------------------

  async function start(): Promise<void> {
    const config = await consoleConfig();
    const style = baseStyle(filters());
    map = new maplibregl.Map({
      container: mapEl,
      style,
      bounds: (s.extent ?? HOME_VIEW) as LngLatBoundsLike,
      fitBoundsOptions: { padding: 30 },
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      maxZoom: 19,
      transformRequest: (url: string) => {
        const token = accessToken();
        if (url.startsWith(location.origin + "/v1/") && token) return { url, headers: { Authorization: `Bearer ${token}` } };
        return { url };
      },
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    map.touchZoomRotate.disableRotation();
    map.on("error", (e: { error?: unknown }) => {
      const status = (e.error as { status?: number } | undefined)?.status;
      if (status !== 204) status && console.warn("map", e.error);
    });
    map.on("load", () => {
      if (!map) return;
      if (config.map_style_url) void addBasemap(config.map_style_url);
      window.phananhMap = map;
      mapEl.dataset.ready = "true";
      paintWards();
      applyClientFilters();
    });
    map.once("idle", () => checkWardLayer());
    map.on("idle", () => drawClusterCounts());
    map.on("click", onClick);
    for (const layer of ["cases", "clusters", "wards-tile-fill", "wards-geo-fill"]) {
      map.on("mouseenter", layer, () => map && (map.getCanvas().style.cursor = "pointer"));
      map.on("mouseleave", layer, () => map && (map.getCanvas().style.cursor = ""));
    }
  }

  /** Without a `wards` layer in the tiles (an older server), the boundaries come from /v1/areas. */
  function checkWardLayer(): void {
    if (!map) return;
    const fromTiles = map.querySourceFeatures(SOURCE, { sourceLayer: "wards" });
    for (const f of fromTiles) learnAreaName(String(f.properties.code), f.properties.name as string);
    if (fromTiles.length === 0) {
      geoFallback = true;
      void loadWardShapes();
    }
  }

  async function loadWardShapes(): Promise<void> {
    if (!map || !wardStats) return;
    const codes = wardStats.groups.map((r) => r.key).filter((k): k is string => !!k).slice(0, 80);
    const shapes = await Promise.all(
      codes.map((code) =>
        api<{ area: { code: string; name: string }; geometry: GeoJSONGeometry | null }>(`/v1/areas/${encodeURIComponent(code)}`, { query: { geometry: "true" } }).catch(() => null),
      ),
    );
    const features = shapes
      .filter((a): a is NonNullable<typeof a> => !!a && !!a.geometry)
      .map((a) => ({ type: "Feature" as const, properties: { code: a.area.code, name: a.area.name }, geometry: a.geometry! }));
    (map.getSource(WARDS_GEO) as GeoJSONSource | undefined)?.setData({ type: "FeatureCollection", features });
  }

  async function addBasemap(url: string): Promise<void> {
    if (!map) return;
    try {
      const r = await fetch(url);
      const basemap = (await r.json()) as StyleSpecification;
      for (const [id, src] of Object.entries(basemap.sources ?? {})) if (!map.getSource(`base-${id}`)) map.addSource(`base-${id}`, src);
      if (basemap.glyphs) map.setGlyphs(basemap.glyphs);
      if (basemap.sprite && typeof basemap.sprite === "string") map.setSprite(basemap.sprite);
      for (const layer of basemap.layers ?? []) {
        if (layer.type === "background") continue;
        const copy = { ...layer, id: `base-${layer.id}` } as maplibregl.LayerSpecification & { source?: string };
        if (copy.source) copy.source = `base-${copy.source}`;
        map.addLayer(copy, "wards-tile-fill");
      }
      // the street map shows through the ward colours
      for (const name of ["tile", "geo"]) map.setPaintProperty(`wards-${name}-fill`, "fill-opacity", 0.45);
    } catch (err) {
      console.warn("basemap", err);
    }
  }

  /** What the tiles of an older server may not filter themselves: ward and overdue (single cases). */
  function applyClientFilters(): void {
    if (!map) return;
    const f = filters();
    const conds: unknown[] = ["all", ["!=", ["get", "cluster"], true]];
    if (f.ward) conds.push(["==", ["get", "ward"], f.ward]);
    if (f.overdue) conds.push(["any", ["==", ["get", "deadline_state"], "overdue"], ["==", ["get", "overdue"], true]]);
    map.setFilter("cases", conds as never);
  }

  /** Counts on the clusters as HTML markers: the map has no font of its own (offline, no glyphs). */
  function drawClusterCounts(): void {
    if (!map || !map.getLayer("clusters")) return;
    const seen = new Set<string>();
    for (const f of map.queryRenderedFeatures({ layers: ["clusters"] }) as MapGeoJSONFeature[]) {
      if (f.geometry.type !== "Point") continue;
      const [lng, lat] = f.geometry.coordinates;
      const key = `${lng.toFixed(6)},${lat.toFixed(6)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const count = Number(f.properties.count ?? 0);
      if (count <= 1) continue;
      let marker = markers.get(key);
      if (!marker) {
        const el = h("div", { class: "cluster-count", "aria-hidden": "true" });
        marker = new maplibregl.Marker({ element: el }).setLngLat([lng, lat]).addTo(map);
        markers.set(key, marker);
      }
      marker.getElement().textContent = fmtNumber(count);
    }
    for (const [key, marker] of markers) {
      if (!seen.has(key)) {
        marker.remove();
        markers.delete(key);
      }
    }
  }

  function onClick(e: maplibregl.MapMouseEvent): void {
    if (!map) return;
    const hits = map.queryRenderedFeatures(e.point, { layers: ["cases", "clusters", "wards-tile-fill", "wards-geo-fill"] });
    const pick = (layer: string) => hits.find((f) => f.layer.id === layer);
    const point = pick("cases");
    const cluster = pick("clusters");
    const ward = pick("wards-tile-fill") ?? pick("wards-geo-fill");
    if (point?.properties.code) void showCase(String(point.properties.code));
    else if (cluster) zoomInto(cluster);
    else if (ward?.properties.code) void showWard(String(ward.properties.code), ward.properties.name as string | undefined);
  }

  function zoomInto(cluster: MapGeoJSONFeature): void {
    if (!map || cluster.geometry.type !== "Point") return;
    if (cluster.properties.code && Number(cluster.properties.count) === 1) {
      void showCase(String(cluster.properties.code));
      return;
    }
    const [lng, lat] = cluster.geometry.coordinates;
    map.easeTo({ center: [lng, lat], zoom: Math.min(CLUSTER_BELOW, map.getZoom() + 2) });
  }

  // --- the cards -------------------------------------------------------------------------------

  async function showCase(code: string): Promise<void> {
    replace(detail, h("p", { class: "muted" }, t("common.loading")));
    try {
      const r = await api<Record<string, unknown>>(`/v1/reports/${encodeURIComponent(code)}`);
      replace(detail, caseCard(r, code));
    } catch (err) {
      replace(detail);
      showError(err);
    }
  }

  function caseCard(r: Record<string, unknown>, code: string): HTMLElement {
    const name = (v: unknown): string => {
      if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        return String(o.name ?? o.code ?? "");
      }
      return v === null || v === undefined ? "" : String(v);
    };
    const category = name(r.category) || categoryNames.get(String(r.category_code ?? "")) || "";
    const ward = name(r.ward) || wardNames.get(String(r.ward_code ?? "")) || "";
    const due = (r.due ?? r.deadlines) as Record<string, string> | undefined;
    const statusText = String(r.status_label ?? t(`status.${String(r.status)}`));
    const rows: [string, string][] = [
      [t("map.case.status"), statusText],
      [t("filters.category"), category],
      [t("filters.ward"), ward],
      [t("map.case.received"), fmtDateTime(r.created_at as string)],
    ];
    if (due?.resolve_by) rows.push([t("map.case.resolve_by"), fmtDateTime(due.resolve_by)]);
    const description = String(r.description ?? r.public_description ?? "");
    return h(
      "article",
      { class: "card case-card", "data-testid": "case-card", "aria-labelledby": "case-card-title" },
      h("div", { class: "card-head" }, h("h2", { id: "case-card-title" }, code), closeButton()),
      h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v || "—")])),
      description ? h("p", { class: "description" }, description) : null,
      h("a", { class: "button", href: `#/case/${encodeURIComponent(code)}` }, t("map.case.open")),
    );
  }

  function closeButton(): HTMLElement {
    return h("button", { type: "button", class: "icon", "aria-label": t("common.close"), onclick: () => replace(detail) }, "×");
  }

  async function showWard(code: string, name?: string): Promise<void> {
    learnAreaName(code, name);
    const row = wardStats?.groups.find((r) => r.key === code);
    const title = row ? rowName(row, wardNames) : name ?? code;
    const list = h("ul", { class: "ward-cases" }, h("li", { class: "muted" }, t("common.loading")));
    const f = { ...filters(), ward: code };
    replace(
      detail,
      h(
        "article",
        { class: "card ward-card", "data-testid": "ward-card", "aria-labelledby": "ward-card-title" },
        h("div", { class: "card-head" }, h("h2", { id: "ward-card-title" }, title), closeButton()),
        row
          ? h(
              "dl",
              { class: "facts" },
              [
                [t("fig.received"), fmtNumber(row.received)],
                [t("fig.open"), fmtNumber(row.open)],
                [t("fig.overdue"), fmtNumber(row.overdue)],
                [t("fig.on_time_pct"), row.resolved_on_time_pct === null ? "—" : `${fmtNumber(row.resolved_on_time_pct)} %`],
              ].map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
            )
          : null,
        h("h3", null, t("map.ward.cases")),
        list,
        h(
          "div",
          { class: "row" },
          filters().ward === code
            ? null
            : h("button", { type: "button", class: "secondary", onclick: () => setFilters({ ward: code }) }, t("map.ward.filter")),
          exportLinks(f),
        ),
      ),
    );
    try {
      const q = caseQuery(f);
      const out = await api<{ features: { properties: Record<string, unknown> }[] }>("/v1/export.geojson", { query: q });
      const cases = out.features.map((x) => x.properties);
      // the most pressing first: overdue, then open, then the rest
      const rank = (p: Record<string, unknown>) => (p.overdue ? 0 : p.open === false || ["resolved", "closed", "rejected", "duplicate"].includes(String(p.status)) ? 2 : 1);
      cases.sort((a, b) => rank(a) - rank(b));
      const shown = cases.slice(0, 12);
      replace(
        list,
        shown.length === 0 ? h("li", { class: "muted" }, t("common.none")) : null,
        shown.map((p) =>
          h(
            "li",
            null,
            h("a", { href: `#/case/${encodeURIComponent(String(p.code))}` }, String(p.code)),
            " ",
            h("span", { class: `badge ${p.overdue ? "overdue" : ""}` }, t(`status.${String(p.status)}`)),
            " ",
            h("span", { class: "muted" }, String(p.category_name ?? categoryNames.get(String(p.category ?? p.category_code)) ?? p.category ?? "")),
          ),
        ),
        cases.length > shown.length ? h("li", { class: "muted" }, t("map.ward.more", { n: cases.length - shown.length })) : null,
      );
    } catch (err) {
      replace(list);
      showError(err);
    }
  }

  // --- filters ---------------------------------------------------------------------------------

  function onFilters(): void {
    if (map) {
      const source = map.getSource(SOURCE) as maplibregl.VectorTileSource | undefined;
      source?.setTiles([tileUrl(filters())]);
      applyClientFilters();
    }
    replace(exportsBox, exportLinks(filters()));
    void loadFigures();
  }
  window.addEventListener("filterschange", onFilters);

  void loadFigures();
  start().catch(showError);

  return () => {
    window.removeEventListener("filterschange", onFilters);
    statsAbort?.abort();
    for (const m of markers.values()) m.remove();
    map?.remove();
    if (window.phananhMap === map) delete window.phananhMap;
    map = null;
  };
}
