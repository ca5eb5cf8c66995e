// The web app's shell: who is logged in, the navigation their role
// allows, and a hash router that mounts one screen at a time into <main>.
import { get, post, setCsrf } from "./api.js";
import { announce, clear, h } from "./ui.js";

const ROLES = ["guest", "host", "program_manager", "admin"];
export const roleAtLeast = (user, role) =>
  !!user && ROLES.indexOf(user.role) >= ROLES.indexOf(role);

// path pattern, module, title, weakest role; shown in the menu when title.
const SCREENS = [
  ["/", "dashboard", "Dashboard", "guest"],
  ["/library", "library", "Library", "guest"],
  ["/playlists", "playlists", "Playlists", "guest"],
  ["/playlists/:id", "playlists", null, "guest"],
  ["/smart-blocks", "smartblocks", "Smart blocks", "guest"],
  ["/smart-blocks/:id", "smartblocks", null, "guest"],
  ["/webstreams", "webstreams", "Webstreams", "guest"],
  ["/podcasts", "podcasts", "Podcasts", "guest"],
  ["/calendar", "calendar", "Calendar", "guest"],
  ["/instances/:id", "builder", null, "guest"],
  ["/history", "history", "History", "guest"],
  ["/users", "users", "Users", "admin"],
  ["/settings", "settings", "Settings", "admin"],
  ["/account", "account", "Account", "guest"],
  ["/login", "login", null, null],
];

const app = { user: null, cleanup: null };

function match(path) {
  for (const [pattern, mod, title, role] of SCREENS) {
    const p = pattern.split("/");
    const q = path.split("/");
    if (p.length !== q.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < p.length; i++) {
      if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(q[i]);
      else if (p[i] !== q[i]) ok = false;
    }
    if (ok) return { mod, title, role, params };
  }
  return null;
}

export function navigate(path) {
  if (location.hash === "#" + path) route();
  else location.hash = "#" + path;
}

function currentPath() {
  const p = location.hash.replace(/^#/, "").split("?")[0];
  return p || "/";
}

export function queryParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : "");
}

function renderNav() {
  const nav = document.getElementById("nav");
  const toggle = document.querySelector(".menu-toggle");
  const who = document.getElementById("who");
  if (!app.user) {
    nav.hidden = true;
    toggle.hidden = true;
    clear(who);
    return;
  }
  const path = currentPath();
  clear(nav, h("ul", {}, SCREENS.filter(([, , title, role]) => title &&
    roleAtLeast(app.user, role)).map(([pattern, , title]) => {
    const here = pattern === "/" ? path === "/" : path.startsWith(pattern);
    return h("li", {}, h("a", { href: "#" + pattern, "aria-current": here ? "page" : null },
      title));
  })));
  nav.hidden = false;
  toggle.hidden = false;
  clear(who, h("span", {}, app.user.display_name || app.user.name,
    h("span", { class: "role" }, " (" + app.user.role.replace("_", " ") + ")")),
  h("button", { type: "button", class: "link", onclick: logout }, "Log out"));
}

async function logout() {
  try {
    await post("/auth/logout");
  } catch (e) {
    // The session may be gone already.
  }
  app.user = null;
  setCsrf("");
  navigate("/login");
}

export async function route() {
  const path = currentPath();
  const m = match(path);
  const main = document.getElementById("main");
  if (app.cleanup) {
    try {
      app.cleanup();
    } catch (e) {
      // A screen that fails to clean up must not block the next one.
    }
    app.cleanup = null;
  }
  if (!m) {
    renderNav();
    clear(main, h("h1", {}, "Not found"), h("p", {}, "There is no such page. ",
      h("a", { href: "#/" }, "Back to the dashboard")));
    return;
  }
  if (m.role && !app.user) {
    navigate("/login?next=" + encodeURIComponent(path));
    return;
  }
  if (m.role && !roleAtLeast(app.user, m.role)) {
    renderNav();
    clear(main, h("h1", {}, "Not allowed"), h("p", {}, "Your role cannot open this page."));
    return;
  }
  renderNav();
  document.body.classList.remove("nav-open");
  document.querySelector(".menu-toggle").setAttribute("aria-expanded", "false");
  clear(main, h("p", { class: "loading" }, "Loading…"));
  try {
    const view = (await import("./views/" + m.mod + ".js")).default;
    const ctx = { user: app.user, params: m.params, query: queryParams(), navigate,
      setUser, roleAtLeast: (r) => roleAtLeast(app.user, r) };
    clear(main);
    app.cleanup = (await view(main, ctx)) || null;
    document.title = (m.title || main.querySelector("h1")?.textContent || "onair") +
      " · onair";
    const h1 = main.querySelector("h1");
    if (h1) announce(h1.textContent);
    main.focus({ preventScroll: true });
  } catch (e) {
    clear(main, h("h1", {}, "Something went wrong"), h("p", { role: "alert" },
      String(e && e.message ? e.message : e)));
  }
}

export function setUser(user, csrfToken) {
  app.user = user;
  if (csrfToken !== undefined) setCsrf(csrfToken);
}

async function start() {
  document.querySelector(".menu-toggle").addEventListener("click", (ev) => {
    const open = document.body.classList.toggle("nav-open");
    ev.currentTarget.setAttribute("aria-expanded", open ? "true" : "false");
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("onair:logged-out", () => {
    if (app.user) {
      app.user = null;
      navigate("/login?next=" + encodeURIComponent(currentPath()));
    }
  });
  try {
    const me = await get("/auth/me");
    setUser(me.user, me.csrf_token || "");
  } catch (e) {
    app.user = null;
  }
  try {
    const st = await fetch("/api/v1/public/now-playing").then((r) => (r.ok ? r.json() : null));
    if (st && st.station && st.station.name) {
      document.getElementById("station-name").textContent = st.station.name;
    }
  } catch (e) {
    // The station's name is a nicety.
  }
  route();
}

start();
