// Account: who you are, changing your password, and your API tokens
// (made with at most your role; the secret is shown once).
import { del, fmtTime, get, post, put } from "../api.js";
import { ApiError } from "../api.js";
import { clear, confirmAction, errorText, form, h, toast } from "../ui.js";

const ROLES = ["guest", "host", "program_manager", "admin"];

export default async function account(main, ctx) {
  const u = ctx.user;
  main.append(h("h1", {}, "Account"),
    h("p", {}, h("strong", {}, u.display_name || u.name), " · ", u.name, " · ",
      u.role.replace("_", " "), u.email ? " · " + u.email : ""));

  const pw = form([
    { name: "current_password", label: "Current password", type: "password",
      autocomplete: "current-password", required: true },
    { name: "new_password", label: "New password (at least 8 characters)", type: "password",
      autocomplete: "new-password", required: true },
    { name: "again", label: "New password again", type: "password",
      autocomplete: "new-password", required: true },
  ], "Change password", async (v) => {
    if (v.new_password !== v.again) {
      throw new ApiError(422, { detail: "The new passwords differ.",
        errors: [{ field: "again", message: "does not match the new password" }] });
    }
    await put("/auth/password", { current_password: v.current_password,
      new_password: v.new_password });
    pw.reset();
    toast("Password changed; your other sessions are logged out.");
  });
  main.append(h("h2", {}, "Password"), pw);

  const list = h("div", {});
  const secret = h("div", { "aria-live": "polite" });
  const mine = ROLES.slice(0, ROLES.indexOf(u.role) + 1).reverse();
  const tf = form([
    { name: "name", label: "Token name (what uses it)", required: true },
    { name: "role", label: "Role", type: "select", value: u.role,
      options: mine.map((r) => [r, r.replace("_", " ")]) },
  ], "Create token", async (v) => {
    const t = await post("/tokens", { name: v.name, role: v.role });
    tf.reset();
    clear(secret, h("div", { class: "card", role: "alert" },
      h("p", {}, "Copy this token now; it is not shown again:"),
      h("code", { class: "token-secret" }, t.token)));
    load();
  });
  main.append(h("h2", {}, "API tokens"), tf, secret, list);

  async function load() {
    try {
      const r = await get("/tokens");
      clear(list, r.items.length ? h("ul", { class: "list-plain" }, r.items.map((t) =>
        h("li", {}, h("strong", {}, t.name), " · " + t.role.replace("_", " ") + " · made " +
          fmtTime(t.created_at) + (t.last_used_at ? " · used " + fmtTime(t.last_used_at) : "") +
          (t.revoked_at ? " · revoked " + fmtTime(t.revoked_at) : " "),
        t.revoked_at ? null : h("button", { type: "button", class: "danger", onclick: async () => {
          if (!(await confirmAction("Revoke the token " + t.name + "?", "Revoke"))) return;
          try {
            await del("/tokens/" + t.id);
            load();
          } catch (e) {
            toast(errorText(e), "error");
          }
        } }, "Revoke"))))
        : h("p", { class: "muted" }, "No tokens."));
    } catch (e) {
      clear(list, h("p", { class: "bad" }, errorText(e)));
    }
  }
  load();
}
