// Every page of the console, once. A page is a module in pages/<name>.ts exporting
// `mount(root, params)`; it is loaded when first visited (the map's MapLibre only then).
import type { Role } from "./api";

export type Unmount = () => void;
export interface PageModule {
  mount(root: HTMLElement, params: Record<string, string>): void | Unmount;
}

export interface Route {
  /** hash path pattern: "/case/:code" matches "#/case/HCM-123" with params {code: "HCM-123"} */
  path: string;
  load: () => Promise<PageModule>;
  /** roles that may open it; absent: anyone (signed in or not, for `public`) */
  roles?: Role[];
  /** shown in the navigation under this string key (pages with parameters are not) */
  nav?: string;
  /** opened without a session (the sign-in page) */
  public?: boolean;
}

export const ROUTES: Route[] = [
  { path: "/signin", load: () => import("./pages/signin"), public: true },
  { path: "/map", load: () => import("./pages/map"), roles: ["leader", "admin", "officer"], nav: "nav.map" },
  { path: "/figures", load: () => import("./pages/figures"), roles: ["leader", "admin", "officer"], nav: "nav.figures" },
  { path: "/queue", load: () => import("./pages/queue"), roles: ["officer", "leader"], nav: "nav.queue" },
  { path: "/case/:code", load: () => import("./pages/case"), roles: ["officer", "leader", "admin", "moderator"] },
  { path: "/moderation", load: () => import("./pages/moderation"), roles: ["moderator", "admin"], nav: "nav.moderation" },
  { path: "/admin", load: () => import("./pages/admin"), roles: ["admin", "leader"], nav: "nav.admin" },
];

/** Where each role lands after signing in. */
export const HOME: Record<Role, string> = {
  leader: "/map",
  admin: "/map",
  officer: "/queue",
  moderator: "/moderation",
};

/** The route and parameters of a hash path ("/case/ABC" → case, {code: "ABC"}). */
export function match(path: string): { route: Route; params: Record<string, string> } | null {
  const parts = path.split("?")[0].split("/").filter(Boolean);
  for (const route of ROUTES) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    pattern.forEach((p, i) => {
      if (p.startsWith(":")) params[p.slice(1)] = decodeURIComponent(parts[i]);
      else if (p !== parts[i]) ok = false;
    });
    if (ok) return { route, params };
  }
  return null;
}
