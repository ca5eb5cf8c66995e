// Small DOM helpers shared by the screens: element building, messages for
// screen readers, forms that show each member's error, a server-paged
// table, dialogs.
import { ApiError, get } from "./api.js";

// h("button", {class: "x", onclick: f}, "text", child...) -> element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" || k === "checked" || k === "selected") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (p = "f") => p + ++uid;

// Say text to screen readers (polite).
export function announce(text) {
  const a = document.getElementById("announce");
  if (!a) return;
  a.textContent = "";
  setTimeout(() => (a.textContent = text), 30);
}

// A short message at the corner; kind "ok" | "error".
export function toast(text, kind = "ok") {
  const box = document.getElementById("toasts");
  const t = h("div", { class: "toast " + kind }, text);
  box.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

export function errorText(e) {
  if (e instanceof ApiError) {
    const fields = e.errors.map((x) => (x.field ? x.field + ": " : "") + x.message);
    return [e.message, ...fields].join(" — ");
  }
  return String(e && e.message ? e.message : e);
}

// A labelled form field. spec: {name, label, type, value, options, required,
// min, max, step, help, autocomplete, rows}. Returns {wrap, input}.
export function field(spec) {
  const id = nextId(spec.name);
  let input;
  if (spec.type === "select") {
    input = h("select", { id, name: spec.name, required: spec.required },
      (spec.options || []).map((o) => {
        const [v, label] = Array.isArray(o) ? o : [o, o];
        return h("option", { value: v, selected: String(v) === String(spec.value ?? "") }, label);
      }));
  } else if (spec.type === "textarea") {
    input = h("textarea", { id, name: spec.name, rows: spec.rows || 3, required: spec.required });
    input.value = spec.value ?? "";
  } else if (spec.type === "checkbox") {
    input = h("input", { id, name: spec.name, type: "checkbox", checked: !!spec.value });
  } else {
    input = h("input", {
      id, name: spec.name, type: spec.type || "text", required: spec.required,
      min: spec.min, max: spec.max, step: spec.step, autocomplete: spec.autocomplete,
      placeholder: spec.placeholder, pattern: spec.pattern,
    });
    input.value = spec.value ?? "";
  }
  const err = h("span", { class: "field-error", id: id + "-err", "aria-live": "polite" });
  input.setAttribute("aria-describedby", id + "-err" + (spec.help ? " " + id + "-help" : ""));
  const wrap = h("div", { class: "field" + (spec.type === "checkbox" ? " check" : "") },
    spec.type === "checkbox" ? [input, h("label", { for: id }, spec.label)]
      : [h("label", { for: id }, spec.label), input],
    spec.help ? h("small", { id: id + "-help", class: "help" }, spec.help) : null, err);
  input.showError = (msg) => {
    err.textContent = msg || "";
    if (msg) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  return { wrap, input };
}

// A form of fields; onSubmit(values) may throw ApiError: each member's
// message goes next to its field, the rest above the button.
export function form(specs, submitLabel, onSubmit, extra) {
  const inputs = {};
  const general = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const el = h("form", { class: "form", novalidate: true },
    specs.map((s) => {
      const f = field(s);
      inputs[s.name] = f.input;
      return f.wrap;
    }), extra || null, general, h("div", { class: "actions" }, button));
  el.inputs = inputs;
  el.values = () => {
    const v = {};
    for (const s of specs) {
      const i = inputs[s.name];
      if (s.type === "checkbox") v[s.name] = i.checked;
      else if (s.type === "number") v[s.name] = i.value === "" ? null : Number(i.value);
      else v[s.name] = i.value;
    }
    return v;
  };
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const i of Object.values(inputs)) i.showError("");
    general.textContent = "";
    button.disabled = true;
    try {
      await onSubmit(el.values());
    } catch (e) {
      let shown = false;
      if (e instanceof ApiError) {
        for (const x of e.errors) {
          const top = (x.field || "").split(".")[0];
          if (inputs[top]) {
            inputs[top].showError(x.message);
            shown = true;
          }
        }
      }
      general.textContent = shown ? e.message : errorText(e);
      const bad = el.querySelector("[aria-invalid=true]");
      if (bad) bad.focus();
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

// A modal dialog with content; resolves when closed. Escape closes it.
export function dialog(title, content, buttons = []) {
  return new Promise((resolve) => {
    const id = nextId("dlg");
    const d = h("dialog", { "aria-labelledby": id, class: "dialog" },
      h("h2", { id }, title), content,
      h("div", { class: "actions" }, buttons.map((b) =>
        h("button", { type: "button", class: b.primary ? "primary" : "",
          onclick: async () => {
            if (b.onclick && (await b.onclick()) === false) return;
            d.close(b.value);
          } }, b.label)),
      h("button", { type: "button", onclick: () => d.close("") }, "Close")));
    d.addEventListener("close", () => {
      d.remove();
      resolve(d.returnValue);
    });
    document.body.append(d);
    d.showModal();
  });
}

export async function confirmAction(text, label = "Delete") {
  const v = await dialog("Please confirm", h("p", {}, text),
    [{ label, value: "yes", primary: true }]);
  return v === "yes";
}

// A table fed by a paged list endpoint (items, total, limit, offset).
// columns: [{key, label, sort (column name or false), render(row) -> node|text,
// hidden}]. opts: {fetch(query) -> Promise<list>, search, filters: [field spec],
// rowActions(row) -> [node], pageSize, caption, onRow(row)}.
export function dataTable(columns, opts) {
  const state = { offset: 0, limit: opts.pageSize || 50, sort: opts.sort || "", q: "",
    filters: {} };
  const shown = new Set(columns.filter((c) => !c.hidden).map((c) => c.key));
  const captionId = nextId("cap");
  const table = h("table", { class: "data", "aria-describedby": captionId });
  const status = h("p", { class: "table-status", id: captionId, "aria-live": "polite" });
  const pager = h("div", { class: "pager" });
  const searchBox = opts.search === false ? null
    : h("input", { type: "search", placeholder: "Search", "aria-label": "Search " +
      (opts.caption || "") });
  let timer;
  if (searchBox) {
    searchBox.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.q = searchBox.value.trim();
        state.offset = 0;
        load();
      }, 250);
    });
  }
  const filterEls = (opts.filters || []).map((spec) => {
    const f = field(spec);
    f.input.addEventListener("change", () => {
      state.filters[spec.name] = f.input.value;
      state.offset = 0;
      load();
    });
    return f.wrap;
  });
  const colMenu = h("details", { class: "columns" }, h("summary", {}, "Columns"),
    columns.map((c) => {
      const f = field({ name: "col-" + c.key, label: c.label + " column", type: "checkbox",
        value: shown.has(c.key) });
      f.input.addEventListener("change", () => {
        if (f.input.checked) shown.add(c.key);
        else shown.delete(c.key);
        render(last);
      });
      return f.wrap;
    }));
  let last = null;
  let seq = 0;

  function header() {
    return h("thead", {}, h("tr", {}, columns.filter((c) => shown.has(c.key)).map((c) => {
      if (!c.sort) return h("th", { scope: "col" }, c.label);
      const dir = state.sort === c.sort ? "ascending" : state.sort === "-" + c.sort
        ? "descending" : "none";
      return h("th", { scope: "col", "aria-sort": dir },
        h("button", { type: "button", class: "sort", onclick: () => {
          state.sort = state.sort === c.sort ? "-" + c.sort : c.sort;
          state.offset = 0;
          load();
        } }, c.label, dir === "ascending" ? " ▲" : dir === "descending" ? " ▼" : ""));
    }), opts.rowActions ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" },
      "Actions")) : null));
  }

  function render(list) {
    if (!list) return;
    const cols = columns.filter((c) => shown.has(c.key));
    clear(table, opts.caption ? h("caption", {}, opts.caption) : null, header(),
      h("tbody", {}, list.items.map((row) => {
        const tr = h("tr", {}, cols.map((c) => h("td", { "data-label": c.label },
          c.render ? c.render(row) : row[c.key] ?? "")),
          opts.rowActions ? h("td", { class: "row-actions" }, opts.rowActions(row)) : null);
        return tr;
      })));
    const total = list.total ?? list.items.length;
    const from = list.items.length ? state.offset + 1 : 0;
    status.textContent = list.items.length
      ? `${from}–${state.offset + list.items.length} of ${total}${list.total_exact === false
        ? "+" : ""}` : "Nothing here yet.";
    clear(pager,
      h("button", { type: "button", disabled: state.offset === 0, onclick: () => {
        state.offset = Math.max(0, state.offset - state.limit);
        load();
      } }, "Previous"),
      h("button", { type: "button", disabled: state.offset + list.items.length >= total,
        onclick: () => {
          state.offset += state.limit;
          load();
        } }, "Next"));
  }

  async function load() {
    const mine = ++seq;
    const query = { limit: state.limit, offset: state.offset, sort: state.sort || undefined,
      q: state.q || undefined, ...state.filters };
    try {
      const list = await opts.fetch(query);
      if (mine !== seq) return;
      last = list;
      render(list);
    } catch (e) {
      status.textContent = errorText(e);
    }
  }

  const el = h("div", { class: "table-wrap" },
    h("div", { class: "table-tools" }, searchBox, filterEls, colMenu), status,
    h("div", { class: "scroll" }, table), pager);
  el.reload = load;
  el.state = state;
  load();
  return el;
}

// A page heading with optional actions on the right.
export function pageHead(title, ...actions) {
  return h("div", { class: "page-head" }, h("h1", {}, title),
    h("div", { class: "actions" }, actions));
}

// A text for screen readers only (e.g. which row a button acts on).
export const sr = (text) => h("span", { class: "visually-hidden" }, " " + text);

// Owner ids to names: program managers may list users; others know
// themselves ("You") and see the others' ids.
export async function ownerNames(ctx) {
  const names = new Map();
  if (ctx.roleAtLeast("program_manager")) {
    try {
      const r = await get("/users", { limit: 500 });
      for (const u of r.items) names.set(u.id, u.display_name || u.name);
    } catch (e) {
      // Ids stand in for names.
    }
  }
  return (id) => (id === null || id === undefined ? "—" : id === ctx.user.id ? "You"
    : names.get(id) || "User " + id);
}
