// The console's shell: a hash router (routes.ts), the header with navigation by role, the language
// switch and sign-out. Pages draw themselves into <main>; see web/README.md for the contract.
import "./styles.css";
import { restore, session, signOut } from "./api";
import { lang, setLang, t } from "./i18n";
import { HOME, ROUTES, match, type Unmount } from "./routes";
import { h, replace, showError } from "./ui";

const app = document.getElementById("app")!;
const header = h("header", { class: "topbar" });
const main = h("main", { id: "main", tabindex: "-1" });
app.append(header, main);

let unmount: Unmount | void;
let drawn = ""; // the hash drawn last: a language change draws the same page again

function currentPath(): string {
  return location.hash.replace(/^#/, "") || "/";
}

export function navigate(path: string): void {
  if (currentPath() === path) void render(true);
  else location.hash = "#" + path;
}

function drawHeader(): void {
  const s = session();
  const here = currentPath();
  const nav = s
    ? ROUTES.filter((r) => r.nav && r.roles?.includes(s.role)).map((r) =>
        h("a", { href: "#" + r.path, class: here.startsWith(r.path) ? "active" : "", "aria-current": here.startsWith(r.path) ? "page" : null }, t(r.nav!)),
      )
    : [];
  const other = lang() === "vi" ? "en" : "vi";
  replace(
    header,
    h("a", { class: "brand", href: "#/" }, "Phản Ánh"),
    h("nav", { "aria-label": t("nav.label") }, nav),
    h("div", { class: "spacer" }),
    h(
      "button",
      {
        type: "button",
        class: "lang-switch",
        "data-testid": "lang-switch",
        lang: other,
        onclick: () => setLang(other),
      },
      other === "en" ? "English" : "Tiếng Việt",
    ),
    s
      ? [
          h("span", { class: "who", title: s.user.username }, s.user.display_name || s.user.username, " · ", t(`role.${s.role}`)),
          h(
            "button",
            {
              type: "button",
              class: "signout",
              onclick: async () => {
                await signOut();
                navigate("/signin");
              },
            },
            t("nav.signout"),
          ),
        ]
      : null,
  );
}

async function render(force = false): Promise<void> {
  const path = currentPath();
  if (!force && path === drawn) return;
  const s = session();
  const found = match(path);
  if (!found || (found.route.public && s)) {
    location.replace("#" + (s ? HOME[s.role] : "/signin"));
    return;
  }
  if (!found.route.public && !s) {
    sessionStorage.setItem("phananh.console.after", path);
    location.replace("#/signin");
    return;
  }
  if (s && found.route.roles && !found.route.roles.includes(s.role)) {
    location.replace("#" + HOME[s.role]);
    return;
  }
  drawn = path;
  drawHeader();
  if (typeof unmount === "function") unmount();
  unmount = undefined;
  document.title = `Phản Ánh — ${t(found.route.nav ?? "nav.console")}`;
  main.replaceChildren(h("p", { class: "loading" }, t("common.loading")));
  try {
    const page = await found.route.load();
    if (drawn !== path) return; // the user went elsewhere meanwhile
    main.replaceChildren();
    unmount = page.mount(main, found.params);
  } catch (err) {
    showError(err);
  }
}

window.addEventListener("hashchange", () => void render());
window.addEventListener("langchange", () => void render(true));
window.addEventListener("sessionchange", () => {
  drawHeader();
  // the session ended under the page (signed out elsewhere, expired): back to the sign-in page
  if (!session() && !match(currentPath())?.route.public) void render(true);
});

// A page load: the refresh cookie (if any) brings the session back; then draw the page asked for.
void (async () => {
  await restore();
  await render(true);
})();
