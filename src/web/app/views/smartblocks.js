// Smart blocks: the list (server-paged) and the editor of one block: its
// own settings (limit by tracks or length, fill the show, order, repeats,
// overflow, artist/title separation), its criteria (rows of field /
// modifier / value, ANDed within a group, groups ORed) and a preview of
// what it would pick now, re-run after each save. Hosts change their own
// blocks, program managers any.
import { ApiError, del, fmtDuration, fmtTime, get, patch, post, put } from "../api.js";
import {
  announce, clear, confirmAction, dataTable, dialog, errorText, form, h, nextId,
  ownerNames, pageHead, sr, toast
} from "../ui.js";

// The fields a criterion may use and their types, as src/station/smartblock.c
// whitelists them (docs/internals/smartblock.md), and the modifiers each type takes.
const FIELDS = [
  ["text", "Text", [["title", "Title"], ["artist", "Artist"], ["album", "Album"],
    ["genre", "Genre"], ["composer", "Composer"], ["label", "Label"], ["isrc", "ISRC"],
    ["comment", "Comment"], ["language", "Language"], ["track_type", "Track type (code)"],
    ["codec", "Codec"], ["container", "Container"], ["mime", "MIME type"]]],
  ["number", "Numbers", [["year", "Year"], ["duration", "Duration (seconds)"],
    ["bpm", "BPM"], ["play_count", "Play count"], ["track_number", "Track number"],
    ["disc_number", "Disc number"], ["bitrate", "Bitrate"], ["sample_rate", "Sample rate"],
    ["channels", "Channels"], ["loudness_lufs", "Loudness (LUFS)"],
    ["true_peak_dbtp", "True peak (dBTP)"]]],
  ["date", "Dates", [["created_at", "Added"], ["updated_at", "Changed"],
    ["last_played_at", "Last played"]]],
];
const TYPE_OF = Object.fromEntries(FIELDS.flatMap(([t, , list]) => list.map(([f]) => [f, t])));
const MODIFIERS = {
  text: ["is", "is_not", "contains", "not_contains", "starts_with", "ends_with"],
  number: ["is", "is_not", "greater", "less", "between"],
  date: ["is", "is_not", "greater", "less", "between", "in_last", "not_in_last"],
};
const MOD_LABEL = {
  is: "is", is_not: "is not", contains: "contains", not_contains: "does not contain",
  starts_with: "starts with", ends_with: "ends with", greater: "greater than",
  less: "less than", between: "between", in_last: "in the last", not_in_last: "not in the last",
};
const DATE_LABEL = { greater: "after", less: "before" };
const SORTS = [["random", "Random"], ["newest", "Newest first"], ["oldest", "Oldest first"],
  ["least_played", "Least recently played"], ["title", "By title"], ["artist", "By artist"]];

const minutes = (us) => (us === null || us === undefined ? "" : String(us / 60e6));
const fromMinutes = (v) => (v === null || v === "" ? null : Math.round(Number(v) * 60e6));

function limitText(b) {
  return b.limit_type === "items" ? b.limit_value + " track" + (b.limit_value === 1 ? "" : "s")
    : fmtDuration(b.limit_value);
}

function placeholder(field, modifier) {
  const t = TYPE_OF[field];
  if (modifier === "in_last" || modifier === "not_in_last") return "7 days";
  if (t === "date") return "YYYY-MM-DD";
  if (field === "duration") return "seconds, e.g. 180";
  return t === "number" ? "a number" : "text";
}

export default async function smartBlocks(main, ctx) {
  if (ctx.params.id) return editor(main, ctx, ctx.params.id);
  return list(main, ctx);
}

// ------------------------------------------------------------------ the list

async function list(main, ctx) {
  const host = ctx.roleAtLeast("host");
  const owner = await ownerNames(ctx);
  const table = dataTable([
    { key: "name", label: "Name", sort: "name",
      render: (b) => h("a", { href: "#/smart-blocks/" + b.id }, b.name) },
    { key: "owner_id", label: "Owner", render: (b) => owner(b.owner_id) },
    { key: "limit", label: "Limit", render: (b) => b.fill_show ? "Fills the show"
      : limitText(b) },
    { key: "sort", label: "Order", render: (b) => (SORTS.find(([v]) => v === b.sort) ||
      [, b.sort])[1] },
    { key: "updated_at", label: "Updated", sort: "updated_at",
      render: (b) => fmtTime(b.updated_at) },
    { key: "description", label: "Description", hidden: true },
  ], {
    caption: "Smart blocks",
    sort: "name",
    fetch: (q) => get("/smart-blocks", q),
    filters: host ? [{ name: "owner_id", label: "Owner", type: "select",
      options: [["", "Anyone"], [ctx.user.id, "Me"]] }] : [],
  });
  const create = () => {
    const f = form([
      { name: "name", label: "Name", required: true },
      { name: "description", label: "Description", type: "textarea" },
    ], "Create smart block", async (v) => {
      const b = await post("/smart-blocks", { name: v.name, description: v.description });
      f.closest("dialog")?.close();
      toast("Smart block created.");
      ctx.navigate("/smart-blocks/" + b.id);
    });
    dialog("New smart block", f);
    f.inputs.name.focus();
  };
  main.append(pageHead("Smart blocks", host ? h("button", { type: "button", class: "primary",
    onclick: create }, "New smart block") : null), table);
}

// ------------------------------------------------------------------ the editor

async function editor(main, ctx, id) {
  const path = "/smart-blocks/" + encodeURIComponent(id);
  const owner = await ownerNames(ctx);
  let block;
  let crit = [];
  let dirty = false;
  let keys = 0;
  let seed = Math.floor(Math.random() * 1e9);
  let previewTimer;
  let trackTypes = [];

  try {
    [block, crit] = await Promise.all([get(path), get(path + "/criteria").then((c) =>
      c.criteria)]);
  } catch (e) {
    main.append(h("h1", {}, "Smart block"), h("p", { class: "bad", role: "alert" },
      errorText(e)), h("p", {}, h("a", { href: "#/smart-blocks" }, "Back to the smart blocks")));
    return null;
  }
  get("/track-types", { limit: 500 }).then((r) => {
    trackTypes = r.items;
    renderCriteria();
  }, () => {});
  const canEdit = () => ctx.roleAtLeast("program_manager") ||
    (ctx.roleAtLeast("host") && block.owner_id === ctx.user.id);
  const edit = canEdit();
  const asRows = (list) => list.map((c) => ({ key: ++keys, group: c.group, field: c.field,
    modifier: c.modifier, value: c.value, value2: c.value2 ?? "" }));
  crit = asRows(crit);

  const heading = h("div", {});
  const settingsBox = h("section", { class: "card", "aria-labelledby": "sb-set-h" });
  const critBox = h("div", {});
  const critNotice = h("p", { class: "form-error", role: "alert" });
  const critState = h("span", { "aria-live": "polite" });
  const saveCrit = h("button", { type: "button", class: "primary", onclick: () => saveCriteria() },
    "Save criteria");
  const discardCrit = h("button", { type: "button", onclick: () => discardCriteria() },
    "Discard");
  const previewOut = h("div", { "aria-live": "polite" });
  const remaining = h("input", { id: nextId("rem"), type: "number", min: "1", step: "any",
    value: "60", inputmode: "decimal" });
  const remainingWrap = h("div", { class: "field sb-remaining" },
    h("label", { for: remaining.id }, "Time left in the show (minutes)"), remaining);
  const shuffle = h("button", { type: "button", onclick: () => {
    seed = Math.floor(Math.random() * 1e9);
    preview();
  } }, "Shuffle again");

  function setDirty(d) {
    dirty = d;
    critState.textContent = d ? "Unsaved changes (the preview shows the saved criteria)"
      : "Criteria saved";
    critState.className = d ? "warn" : "muted";
    saveCrit.disabled = !d;
    discardCrit.disabled = !d;
  }

  // ---------------------------------------------------------------- head and settings

  function renderHead() {
    clear(heading,
      h("p", {}, h("a", { href: "#/smart-blocks" }, "← Smart blocks")),
      pageHead(block.name, edit ? h("button", { type: "button", class: "danger",
        onclick: remove }, "Delete smart block") : null),
      h("p", { class: "muted" }, "Owner: " + owner(block.owner_id) + " · updated " +
        fmtTime(block.updated_at)),
      edit ? null : h("p", { class: "muted" }, "Only its owner and program managers can " +
        "change this smart block."));
  }

  async function remove() {
    if (!(await confirmAction("Delete the smart block " + block.name + "?"))) return;
    try {
      await del(path);
      setDirty(false);
      toast("Smart block deleted.");
      ctx.navigate("/smart-blocks");
    } catch (e) {
      // 409 while a playlist, show or the schedule uses it.
      await dialog("Cannot delete", h("p", { role: "alert" }, errorText(e)));
    }
  }

  function renderSettings() {
    const b = block;
    const f = form([
      { name: "name", label: "Name", value: b.name, required: true },
      { name: "description", label: "Description", type: "textarea", value: b.description,
        rows: 2 },
      { name: "limit_type", label: "Limit by", type: "select", value: b.limit_type,
        options: [["items", "Number of tracks"], ["duration", "Length"]] },
      { name: "limit_value", label: "", type: "number", min: 0, step: "any",
        value: b.limit_type === "items" ? b.limit_value : minutes(b.limit_value) },
      { name: "fill_show", label: "Fill the show: use the time left in the show instead of " +
        "the limit", type: "checkbox", value: b.fill_show },
      { name: "sort", label: "Order", type: "select", value: b.sort, options: SORTS },
      { name: "allow_repeats", label: "Allow repeats (a track may come round again)",
        type: "checkbox", value: b.allow_repeats },
      { name: "overflow", label: "Overflow: the last track may run past a length limit",
        type: "checkbox", value: b.overflow },
      { name: "artist_separation_us", label: "Artist separation (minutes)", type: "number",
        min: 0, step: "any", value: minutes(b.artist_separation_us),
        help: "No artist twice within this time. Empty: no rule." },
      { name: "title_separation_us", label: "Title separation (minutes)", type: "number",
        min: 0, step: "any", value: minutes(b.title_separation_us),
        help: "No title twice within this time. Empty: no rule." },
    ], "Save settings", async (v) => {
      const body = { name: v.name, description: v.description, limit_type: v.limit_type,
        limit_value: v.limit_type === "items" ? v.limit_value : fromMinutes(v.limit_value),
        fill_show: v.fill_show, sort: v.sort, allow_repeats: v.allow_repeats,
        overflow: v.overflow, artist_separation_us: fromMinutes(v.artist_separation_us),
        title_separation_us: fromMinutes(v.title_separation_us) };
      if (!(body.limit_value >= 1)) {
        throw new ApiError(422, { detail: "The limit is missing.", errors: [{
          field: "limit_value", message: "give a number above 0" }] });
      }
      block = await patch(path, body);
      renderHead();
      syncPreviewControls();
      toast("Settings saved.");
      schedulePreview();
    });
    const type = f.inputs.limit_type;
    const value = f.inputs.limit_value;
    const sync = () => {
      value.closest(".field").querySelector("label").textContent =
        type.value === "items" ? "Number of tracks"
        : "Length (minutes)";
      value.step = type.value === "items" ? "1" : "any";
    };
    type.addEventListener("change", sync);
    sync();
    if (!edit) {
      for (const i of Object.values(f.inputs)) i.disabled = true;
      f.querySelector("button[type=submit]").hidden = true;
    }
    clear(settingsBox, h("h2", { id: "sb-set-h" }, "Settings"), f);
  }

  // ---------------------------------------------------------------- criteria

  function renderCriteria(focus) {
    const groups = [...new Set(crit.map((c) => c.group))].sort((a, b) => a - b);
    const parts = [];
    groups.forEach((g, gi) => {
      if (gi) parts.push(h("p", { class: "sb-or" }, "or"));
      const legend = nextId("grp");
      parts.push(h("fieldset", { class: "sb-group", "aria-labelledby": legend },
        h("legend", { id: legend }, "Group " + g + ": all of these"),
        crit.filter((c) => c.group === g).map((c) => critRow(c)),
        edit ? h("button", { type: "button", onclick: () => addRow(g) },
          "Add a condition", sr("to group " + g)) : null));
    });
    const datalist = h("datalist", { id: "sb-track-types" }, trackTypes.map((t) =>
      h("option", { value: t.code }, t.name)));
    clear(critBox, datalist,
      crit.length ? parts : h("p", { class: "muted" }, "No criteria: the block picks from " +
        "every analysed track."),
      edit ? h("div", { class: "actions" }, h("button", { type: "button", onclick: () =>
        addRow(groups.length ? groups[groups.length - 1] + 1 : 0) },
      crit.length ? "Add a group (or)" : "Add a condition")) : null);
    const el = focus && critBox.querySelector(focus);
    if (el) el.focus();
  }

  function critRow(c) {
    const n = crit.indexOf(c) + 1;
    const type = TYPE_OF[c.field] || "text";
    const ids = { g: nextId("g"), f: nextId("f"), m: nextId("m"), v: nextId("v"),
      v2: nextId("v2") };
    const err = h("span", { class: "field-error", id: nextId("err"), "aria-live": "polite" });
    const sel = (key) => "[data-key='" + c.key + "'] [data-role=" + key + "]";
    const group = h("input", { id: ids.g, type: "number", min: "0", max: "99", step: "1",
      value: c.group, dataset: { role: "group" }, disabled: !edit });
    const fieldSel = h("select", { id: ids.f, dataset: { role: "field" }, disabled: !edit },
      TYPE_OF[c.field] ? null : h("option", { value: c.field, selected: true }, c.field),
      FIELDS.map(([, label, list]) => h("optgroup", { label }, list.map(([v, l]) =>
        h("option", { value: v, selected: v === c.field }, l)))));
    const modSel = h("select", { id: ids.m, dataset: { role: "modifier" }, disabled: !edit },
      MODIFIERS[type].map((m) => h("option", { value: m, selected: m === c.modifier },
        (type === "date" && DATE_LABEL[m]) || MOD_LABEL[m])));
    const value = h("input", { id: ids.v, value: c.value, dataset: { role: "value" },
      placeholder: placeholder(c.field, c.modifier), disabled: !edit, autocomplete: "off",
      list: c.field === "track_type" ? "sb-track-types" : null });
    const value2 = h("input", { id: ids.v2, value: c.value2, dataset: { role: "value2" },
      placeholder: placeholder(c.field, c.modifier), disabled: !edit, autocomplete: "off" });
    for (const i of [group, fieldSel, modSel, value, value2]) {
      i.setAttribute("aria-describedby", err.id);
    }
    group.addEventListener("change", () => {
      const g = Math.min(99, Math.max(0, Math.trunc(Number(group.value)) || 0));
      if (g === c.group) return;
      c.group = g;
      changed(sel("group"));
    });
    fieldSel.addEventListener("change", () => {
      c.field = fieldSel.value;
      if (!MODIFIERS[TYPE_OF[c.field]].includes(c.modifier)) c.modifier = "is";
      changed(sel("field"));
    });
    modSel.addEventListener("change", () => {
      c.modifier = modSel.value;
      if (c.modifier !== "between") c.value2 = "";
      changed(sel("modifier"));
    });
    value.addEventListener("input", () => {
      c.value = value.value;
      setDirty(true);
    });
    value2.addEventListener("input", () => {
      c.value2 = value2.value;
      setDirty(true);
    });
    const cell = (id, label, input) => h("div", { class: "field" },
      h("label", { for: id }, label), input);
    const row = h("div", { class: "sb-row", dataset: { key: c.key }, role: "group",
      "aria-label": "Condition " + n },
    cell(ids.g, "Group", group), cell(ids.f, "Field", fieldSel),
    cell(ids.m, "Modifier", modSel), cell(ids.v, "Value", value),
    c.modifier === "between" ? cell(ids.v2, "and", value2) : h("span", {}),
    edit ? h("button", { type: "button", class: "danger", "aria-label": "Remove condition " + n,
      onclick: () => removeRow(c) }, "Remove") : h("span", {}),
    err);
    row.showError = (msg) => {
      err.textContent = msg;
      row.classList.toggle("invalid", !!msg);
    };
    return row;
  }

  function changed(focus) {
    setDirty(true);
    renderCriteria(focus);
  }

  function addRow(group) {
    const c = { key: ++keys, group, field: "genre", modifier: "is", value: "", value2: "" };
    crit.push(c);
    changed("[data-key='" + c.key + "'] [data-role=field]");
    announce("Condition added to group " + group);
  }

  function removeRow(c) {
    crit.splice(crit.indexOf(c), 1);
    changed(null);
    critBox.querySelector("[data-role=value]")?.focus();
    announce("Condition removed");
  }

  // Sent in the order shown (by group), so that "criteria.N" in an error
  // names the N-th row on the screen.
  function ordered() {
    return [...crit].sort((a, b) => a.group - b.group);
  }

  async function saveCriteria() {
    critNotice.textContent = "";
    const rowsOrder = ordered();
    crit = rowsOrder;
    renderCriteria();
    const body = { criteria: rowsOrder.map((c) => ({ group: c.group, field: c.field,
      modifier: c.modifier, value: c.value,
      value2: c.modifier === "between" ? c.value2 : null })) };
    saveCrit.disabled = true;
    try {
      const r = await put(path + "/criteria", body);
      crit = asRows(r.criteria);
      setDirty(false);
      renderCriteria();
      toast("Criteria saved.");
      schedulePreview();
    } catch (e) {
      saveCrit.disabled = false;
      let first = null;
      let shown = false;
      for (const x of (e instanceof ApiError ? e.errors : [])) {
        const m = /^criteria\.(\d+)(?:\.(\w+))?$/.exec(x.field || "");
        const c = m && rowsOrder[Number(m[1])];
        const row = c && critBox.querySelector("[data-key='" + c.key + "']");
        if (!row) continue;
        shown = true;
        row.showError((m[2] ? m[2] + ": " : "") + x.message);
        first = first || row.querySelector("[data-role=" + (m[2] || "value") + "]") ||
          row.querySelector("input");
      }
      critNotice.textContent = "Not saved: " + (shown ? e.message : errorText(e));
      if (first) first.focus();
    }
  }

  async function discardCriteria() {
    try {
      crit = asRows((await get(path + "/criteria")).criteria);
      setDirty(false);
      critNotice.textContent = "";
      renderCriteria();
      announce("Changes discarded");
    } catch (e) {
      critNotice.textContent = errorText(e);
    }
  }

  // ---------------------------------------------------------------- preview

  function syncPreviewControls() {
    remainingWrap.hidden = !block.fill_show;
    shuffle.hidden = block.sort !== "random";
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 400);
  }

  let previewSeq = 0;
  async function preview() {
    const mine = ++previewSeq;
    clear(previewOut, h("p", { class: "loading" }, "Picking…"));
    const q = { seed };
    if (block.fill_show) {
      const mins = Number(remaining.value);
      if (mins > 0) q.remaining_us = Math.round(mins * 60e6);
    }
    try {
      const r = await get(path + "/preview", q);
      if (mine !== previewSeq) return;
      const summary = r.items.length + " track" + (r.items.length === 1 ? "" : "s") + ", " +
        fmtDuration(r.total_us) + " in all, from " + r.candidates + " matching track" +
        (r.candidates === 1 ? "" : "s");
      clear(previewOut,
        h("p", {}, h("strong", {}, summary), h("span", { class: "muted" },
          " (as if it played " + fmtTime(r.at) + ")")),
        r.short_fill ? h("p", { class: "warn" }, "Not enough matching tracks to reach the " +
          "limit.") : null,
        r.separation_relaxed ? h("p", { class: "warn" }, r.separation_relaxed + " pick" +
          (r.separation_relaxed === 1 ? "" : "s") + " had to break a separation rule.") : null,
        r.items.length ? h("div", { class: "scroll" }, h("table", { class: "data" },
          h("caption", { class: "visually-hidden" }, "Tracks the block would pick"),
          h("thead", {}, h("tr", {}, ["#", "Title", "Artist", "Length"].map((c) =>
            h("th", { scope: "col" }, c)))),
          h("tbody", {}, r.items.map((it, i) => h("tr", {},
            h("td", { "data-label": "#" }, String(i + 1)),
            h("td", { "data-label": "Title" }, it.title || "Untitled"),
            h("td", { "data-label": "Artist" }, it.artist || ""),
            h("td", { "data-label": "Length" }, fmtDuration(it.length_us)))))))
          : h("p", { class: "muted" }, "It would pick nothing."));
      announce("Preview: " + summary);
    } catch (e) {
      if (mine !== previewSeq) return;
      // 422 when the saved criteria cannot pick anything.
      clear(previewOut, h("p", { class: "bad" }, errorText(e)));
      announce("Preview failed");
    }
  }

  remaining.addEventListener("change", schedulePreview);
  main.append(heading, settingsBox,
    h("section", { class: "card", "aria-labelledby": "sb-crit-h" },
      h("h2", { id: "sb-crit-h" }, "Criteria"),
      h("p", { class: "help" }, "A track matches when it meets every condition of a group; " +
        "the groups are alternatives. Only analysed tracks are picked."),
      critBox, critNotice,
      edit ? h("div", { class: "actions sb-savebar" }, critState, saveCrit, discardCrit)
        : null),
    h("section", { class: "card", "aria-labelledby": "sb-prev-h" },
      h("h2", { id: "sb-prev-h" }, "Preview"),
      h("p", { class: "help" }, "What the saved block would pick now; it runs again after " +
        "each save."),
      h("div", { class: "actions" }, remainingWrap,
        h("button", { type: "button", onclick: preview }, "Preview"), shuffle),
      previewOut));
  renderHead();
  renderSettings();
  renderCriteria();
  setDirty(false);
  syncPreviewControls();
  preview();

  const beforeUnload = (ev) => {
    if (!dirty) return;
    ev.preventDefault();
    ev.returnValue = "";
  };
  window.addEventListener("beforeunload", beforeUnload);
  return () => {
    clearTimeout(previewTimer);
    window.removeEventListener("beforeunload", beforeUnload);
    if (dirty) toast("Unsaved changes to the criteria were discarded.", "error");
  };
}
