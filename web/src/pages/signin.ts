// Staff sign-in. Test hooks: inputs name="username" and name="password", a submit button.
import { signIn } from "../api";
import { t } from "../i18n";
import { HOME } from "../routes";
import { field, h } from "../ui";

export function mount(root: HTMLElement): void {
  const username = h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: false });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, t("signin.submit"));
  const form = h(
    "form",
    { class: "signin card", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, t("signin.title")),
    h("p", { class: "muted" }, t("signin.intro")),
    field(t("signin.username"), username),
    field(t("signin.password"), password),
    error,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const user = await signIn(username.value.trim(), password.value);
      const after = sessionStorage.getItem("phananh.console.after");
      sessionStorage.removeItem("phananh.console.after");
      location.hash = "#" + (after && after !== "/signin" ? after : HOME[user.role]);
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(h("div", { class: "signin-wrap" }, form));
  username.focus();
}
