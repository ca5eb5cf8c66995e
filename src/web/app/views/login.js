// Log in: name and password; after it, the page asked for (?next=).
import { ApiError, post } from "../api.js";
import { form, h } from "../ui.js";

export default function login(main, ctx) {
  const f = form([
    { name: "name", label: "Name", autocomplete: "username", required: true },
    { name: "password", label: "Password", type: "password",
      autocomplete: "current-password", required: true },
  ], "Log in", async (v) => {
    if (!v.name || !v.password) {
      throw new ApiError(422, { detail: "Enter your name and password.", errors: [] });
    }
    const r = await post("/auth/login", { name: v.name, password: v.password });
    ctx.setUser(r.user, r.csrf_token);
    const next = ctx.query.get("next");
    ctx.navigate(next && next.startsWith("/") && next !== "/login" ? next : "/");
  });
  main.append(h("div", { class: "login" }, h("h1", {}, "Log in"), f));
  f.inputs.name.focus();
}
