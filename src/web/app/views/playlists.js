// Playlists: the list (server-paged, with each playlist's length and
// item count) and the editor of one playlist: its name and description,
// and its items (tracks, smart blocks, webstreams) with per-item fades,
// crossfade, cue points and gain. The items are edited locally and saved
// whole (PUT) with the version read; when someone else saved first (409)
// the page reloads and says so. Hosts change their own playlists,
// program managers any.
import { ApiError, del, fmtDuration, fmtTime, get, patch, post, put } from "../api.js";
import {
  announce, clear, confirmAction, dataTable, dialog, errorText, form, h, nextId,
  ownerNames, pageHead, sr, toast
} from "../ui.js";

const KIND_LABEL = { file: "Track", smart_block: "Smart block", webstream: "Webstream" };
// Where each kind of item is searched, and the PlaylistItemsPut member naming it.
const SOURCES = {
  file: { path: "/files", member: "file_id", label: "Tracks", query: { sort: "-created_at" } },
  smart_block: { path: "/smart-blocks", member: "smart_block_id", label: "Smart blocks",
    query: { sort: "name" } },
  webstream: { path: "/webstreams", member: "webstream_id", label: "Webstreams",
    query: { sort: "name" } },
};
// The per-item settings, which kinds take them (PlaylistItemsPut: cue points
// for files only; a smart block takes none: its files play with their own),
// and their unit.
const OPTIONS = [
  ["fade_in_us", "Fade in", ["file", "webstream"], "s"],
  ["fade_out_us", "Fade out", ["file", "webstream"], "s"],
  ["crossfade_us", "Crossfade", ["file", "webstream"], "s"],
  ["cue_in_us", "Cue in", ["file"], "s"],
  ["cue_out_us", "Cue out", ["file"], "s"],
  ["gain_db", "Gain", ["file", "webstream"], "dB"],
];
const MEMBERS = OPTIONS.map(([m]) => m);

const secs = (us) => (us === null || us === undefined ? "" : String(us / 1e6));

export default async function playlists(main, ctx) {
  if (ctx.params.id) return editor(main, ctx, ctx.params.id);
  return list(main, ctx);
}

// ------------------------------------------------------------------ the list

async function list(main, ctx) {
  const host = ctx.roleAtLeast("host");
  const owner = await ownerNames(ctx);
  // The list has no length or count: each shown row reads its items once
  // per version (the cells fill in when they arrive).
  const docs = new Map();
  const itemsDoc = (pl) => {
    const key = pl.id + ":" + pl.version;
    if (!docs.has(key)) docs.set(key, get("/playlists/" + pl.id + "/items"));
    return docs.get(key);
  };
  const later = (pl, text) => {
    const el = h("span", { class: "muted" }, "…");
    itemsDoc(pl).then((d) => {
      el.className = "";
      el.textContent = text(d);
    }, () => {
      el.textContent = "?";
    });
    return el;
  };
  const table = dataTable([
    { key: "name", label: "Name", sort: "name",
      render: (pl) => h("a", { href: "#/playlists/" + pl.id }, pl.name) },
    { key: "owner_id", label: "Owner", render: (pl) => owner(pl.owner_id) },
    { key: "length", label: "Length", render: (pl) => later(pl, (d) =>
      fmtDuration(d.total_us) + (d.total_known ? "" : " +")) },
    { key: "count", label: "Items", render: (pl) => later(pl, (d) => String(d.items.length)) },
    { key: "updated_at", label: "Updated", sort: "updated_at",
      render: (pl) => fmtTime(pl.updated_at) },
    { key: "description", label: "Description", hidden: true },
  ], {
    caption: "Playlists",
    sort: "name",
    pageSize: 25,
    fetch: (q) => get("/playlists", q),
    filters: host ? [{ name: "owner_id", label: "Owner", type: "select",
      options: [["", "Anyone"], [ctx.user.id, "Me"]] }] : [],
  });
  const create = () => {
    const f = form([
      { name: "name", label: "Name", required: true },
      { name: "description", label: "Description", type: "textarea" },
    ], "Create playlist", async (v) => {
      const pl = await post("/playlists", { name: v.name, description: v.description });
      f.closest("dialog")?.close();
      toast("Playlist created.");
      ctx.navigate("/playlists/" + pl.id);
    });
    dialog("New playlist", f);
    f.inputs.name.focus();
  };
  main.append(pageHead("Playlists", host ? h("button", { type: "button", class: "primary",
    onclick: create }, "New playlist") : null), table,
  h("p", { class: "muted" }, "A length with + leaves out smart blocks (their length is known " +
    "when the schedule is built) and tracks not analysed yet."));
}

// ------------------------------------------------------------------ items

let keys = 0;

// An item as the editor keeps it: the API's members plus a key for the DOM
// and what its length is made of.
function fromServer(it) {
  return { ...it, key: ++keys, loaded: { ...it }, base: undefined };
}

function fromSearch(kind, x) {
  const it = { key: ++keys, kind, file_id: null, smart_block_id: null, webstream_id: null,
    title: null, artist: null, name: null, duration_us: null, loaded: null, base: null };
  // base: the file's own cue points; undefined until known, null without a length.
  for (const m of MEMBERS) it[m] = null;
  it[SOURCES[kind].member] = x.id;
  if (kind === "file") {
    it.title = x.title;
    it.artist = x.artist;
    if (x.duration_us !== null) it.base = fileBase(x);
  } else {
    it.name = x.name;
    it.duration_us = kind === "webstream" ? x.duration_us : null;
  }
  return it;
}

// A file's own cue points (the length when the item has none).
function fileBase(f) {
  return { in: f.cue_in_us ?? 0, out: f.cue_out_us ?? f.duration_us };
}

function itemTitle(it) {
  if (it.kind !== "file") return it.name || KIND_LABEL[it.kind];
  return it.title || "Untitled";
}

const cuesAsLoaded = (it) => !!it.loaded && it.cue_in_us === it.loaded.cue_in_us &&
  it.cue_out_us === it.loaded.cue_out_us;

// The length the builder will count, as the API computes it (null: not
// known); undefined while a changed cue point waits for the file's own
// cue points (fetched on demand).
function itemLength(it) {
  if (it.kind === "smart_block") return null;
  if (it.kind === "webstream") return it.duration_us;
  if (cuesAsLoaded(it)) return it.loaded.duration_us;
  if (!it.base) return it.base;
  return Math.max(0, (it.cue_out_us ?? it.base.out) - (it.cue_in_us ?? it.base.in));
}

// "fade in 2 s, gain -3 dB": what is set, for the closed settings line.
function optionHint(it) {
  const set = OPTIONS.filter(([m, , kinds]) => kinds.includes(it.kind) && it[m] !== null)
    .map(([m, label, , unit]) => label.toLowerCase() + " " + (unit === "dB" ? it[m]
      : it[m] / 1e6) + " " + unit);
  return set.length ? "(" + set.join(", ") + ")" : "";
}

function toPut(it) {
  const out = { [SOURCES[it.kind].member]: it[SOURCES[it.kind].member] };
  for (const [m, , kinds] of OPTIONS) if (kinds.includes(it.kind) && it[m] !== null) out[m] = it[m];
  return out;
}

// ------------------------------------------------------------------ the editor

async function editor(main, ctx, id) {
  const path = "/playlists/" + encodeURIComponent(id);
  const owner = await ownerNames(ctx);
  let pl = null;
  let version = 0;
  let items = [];
  let dirty = false;
  let busy = false;
  const rows = new Map(); // key -> {li, len, inputs}

  const heading = h("div", {});
  const notice = h("p", { class: "form-error", role: "alert" });
  const metaBox = h("section", { class: "card", "aria-labelledby": "pl-meta-h" });
  const totalBox = h("p", { class: "pl-total", "aria-live": "polite" });
  const list = h("ol", { class: "pl-items", "aria-labelledby": "pl-items-h" });
  const saveState = h("span", { "aria-live": "polite" });
  const saveButton = h("button", { type: "button", class: "primary", onclick: () => save() },
    "Save items");
  const discardButton = h("button", { type: "button", onclick: () => discard() }, "Discard");
  const saveBar = h("div", { class: "pl-savebar actions" }, saveState, saveButton,
    discardButton);
  const addBox = h("section", { class: "card", "aria-labelledby": "pl-add-h" });
  const canEdit = () => !!pl && (ctx.roleAtLeast("program_manager") ||
    (ctx.roleAtLeast("host") && pl.owner_id === ctx.user.id));

  async function load() {
    const p = await get(path);
    const doc = await get(path + "/items");
    // The version is the playlist's (PATCH and PUT both move it): read both
    // at the same one.
    pl = p.version === doc.version ? p : await get(path);
    version = doc.version;
    items = doc.items.map(fromServer);
    setDirty(false);
  }

  function setDirty(d) {
    dirty = d;
    saveState.textContent = d ? "Unsaved changes" : "All changes saved";
    saveState.className = d ? "warn" : "muted";
    saveButton.disabled = !d || busy;
    discardButton.disabled = !d || busy;
    saveBar.classList.toggle("dirty", d);
  }

  // Someone else saved first: read it again and say what happened.
  async function conflict(e) {
    const lost = dirty;
    await load();
    render();
    notice.textContent = "Someone else changed this playlist meanwhile: it was reloaded" +
      (lost ? " and your unsaved item changes were discarded" : "") +
      ". Please check and make your change again. (" + e.message + ")";
    announce("The playlist was reloaded");
  }

  // ---------------------------------------------------------------- head and form

  function renderHead() {
    clear(heading,
      h("p", {}, h("a", { href: "#/playlists" }, "← Playlists")),
      pageHead(pl.name, canEdit() ? h("button", { type: "button", class: "danger",
        onclick: remove }, "Delete playlist") : null),
      h("p", { class: "muted" }, "Owner: " + owner(pl.owner_id) + " · updated " +
        fmtTime(pl.updated_at)),
      canEdit() ? null : h("p", { class: "muted" }, "Only its owner and program managers " +
        "can change this playlist."));
  }

  function renderMeta() {
    if (!canEdit()) {
      clear(metaBox, h("h2", { id: "pl-meta-h" }, "About"),
        h("p", {}, pl.description || h("span", { class: "muted" }, "No description.")));
      return;
    }
    const f = form([
      { name: "name", label: "Name", value: pl.name, required: true },
      { name: "description", label: "Description", type: "textarea", value: pl.description },
    ], "Save name and description", async (v) => {
      try {
        pl = await patch(path, { name: v.name, description: v.description, version });
        version = pl.version;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && !e.errors.length) {
          await conflict(e);
          return;
        }
        throw e;
      }
      renderHead();
      toast("Playlist saved.");
    });
    clear(metaBox, h("h2", { id: "pl-meta-h" }, "Name and description"), f);
  }

  async function remove() {
    if (!(await confirmAction("Delete the playlist " + pl.name + "?"))) return;
    try {
      await del(path);
      setDirty(false);
      toast("Playlist deleted.");
      ctx.navigate("/playlists");
    } catch (e) {
      // 409 while a show or the schedule uses it.
      await dialog("Cannot delete", h("p", { role: "alert" }, errorText(e)));
    }
  }

  // ---------------------------------------------------------------- items

  function renderTotal() {
    let total = 0;
    let blocks = 0;
    let unknown = 0;
    for (const it of items) {
      const len = itemLength(it);
      if (it.kind === "smart_block") blocks++;
      else if (len === null || len === undefined) unknown++;
      else total += len;
    }
    const extra = [blocks ? blocks + " smart block" + (blocks > 1 ? "s" : "") +
      " (length known when the schedule is built)" : "",
    unknown ? unknown + " item" + (unknown > 1 ? "s" : "") + " of unknown length" : ""]
      .filter(Boolean);
    clear(totalBox, "Total length: ", h("strong", {}, fmtDuration(total)),
      " · " + items.length + " item" + (items.length === 1 ? "" : "s"),
      extra.length ? h("span", { class: "muted" }, " · plus " + extra.join(" and ")) : null);
  }

  function renderItems(focus) {
    rows.clear();
    const edit = canEdit();
    clear(list, items.length ? items.map((it, i) => itemRow(it, i, edit))
      : h("li", { class: "pl-empty muted" }, edit
        ? "No items yet. Search in “Add items” and press Add, or drag results here."
        : "This playlist is empty."));
    renderTotal();
    // Keep the keyboard where it was: on the same button of the moved item,
    // or its other Move button when this one is now disabled.
    const el = focus && list.querySelector(focus);
    if (el) (el.disabled ? el.parentElement.querySelector("button:not([disabled])") : el).focus();
  }

  function itemRow(it, i, edit) {
    const len = h("span", { class: "pl-len" });
    const li = h("li", { class: "pl-item", dataset: { key: it.key } });
    const title = itemTitle(it);
    const inputs = {};
    const hint = h("span", { class: "muted" }, optionHint(it));
    const opts = OPTIONS.filter(([, , kinds]) => kinds.includes(it.kind)).map(([m, label,
      , unit]) => {
      const fid = nextId(m);
      const err = h("span", { class: "field-error", id: fid + "-err" });
      const input = h("input", { id: fid, type: "number", step: "any",
        min: unit === "dB" ? "-60" : "0", max: unit === "dB" ? "20" : null,
        inputmode: "decimal", disabled: !edit, "aria-describedby": fid + "-err",
        value: unit === "dB" ? (it[m] ?? "") : secs(it[m]) });
      input.showError = (msg) => {
        err.textContent = msg || "";
        if (msg) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      };
      input.addEventListener("input", () => {
        setOption(it, m, unit, input);
        hint.textContent = optionHint(it);
      });
      inputs[m] = input;
      return h("div", { class: "field" }, h("label", { for: fid }, label + " (" + unit + ")"),
        input, err);
    });
    const itemErr = h("p", { class: "field-error" });
    const details = opts.length ? h("details", { class: "pl-opts" },
      h("summary", {}, it.kind === "file" ? "Fades, cues and gain" : "Fades and gain",
        sr("of " + title), " ", hint),
      h("div", { class: "pl-opt-grid" }, opts),
      h("small", { class: "help" }, "Empty: the default" + (it.kind === "file"
        ? " (cue points: the track's own)." : "."))) : null;
    const head = h("div", { class: "pl-row" },
        h("span", { class: "pl-pos" }, String(i + 1) + "."),
        h("span", { class: "pl-what" }, h("strong", {}, title),
          it.kind === "file" && it.artist ? " — " + it.artist : "",
          h("span", { class: "badge pl-kind" }, KIND_LABEL[it.kind])),
        len,
        edit ? h("span", { class: "pl-actions" },
          h("button", { type: "button", dataset: { act: "up" }, disabled: i === 0,
            onclick: () => move(i, i - 1, "[data-key='" + it.key + "'] [data-act=up]") },
          "Move up", sr(title)),
          h("button", { type: "button", dataset: { act: "down" },
            disabled: i === items.length - 1,
            onclick: () => move(i, i + 1, "[data-key='" + it.key + "'] [data-act=down]") },
          "Move down", sr(title)),
          h("button", { type: "button", class: "danger", dataset: { act: "remove" },
            onclick: () => removeItem(i) }, "Remove", sr(title))) : null);
    li.append(head, itemErr);
    if (details) li.append(details);
    rows.set(it.key, { li, len, inputs, details, itemErr });
    showLength(it);
    if (edit) dragItem(li, head, it);
    return li;
  }

  function showLength(it) {
    const row = rows.get(it.key);
    if (!row) return;
    const len = itemLength(it);
    row.len.textContent = it.kind === "smart_block" ? "varies" : len === undefined ? "…"
      : len === null ? "unknown" : fmtDuration(len);
  }

  function setOption(it, m, unit, input) {
    const raw = input.value.trim();
    const n = Number(raw);
    if (raw !== "" && !Number.isFinite(n)) return;
    it[m] = raw === "" ? null : unit === "dB" ? n : Math.round(n * 1e6);
    input.showError("");
    setDirty(true);
    if (m.startsWith("cue_") && it.kind === "file") {
      if (it.base === undefined && !cuesAsLoaded(it)) fetchBase(it);
      showLength(it);
      renderTotal();
    }
  }

  // A loaded item's file cue points, for the length after a cue change.
  async function fetchBase(it) {
    if (it.fetching) return;
    it.fetching = true;
    try {
      const f = await get("/files/" + it.file_id);
      it.base = f.duration_us === null ? null : fileBase(f);
    } catch (e) {
      it.base = null;
    }
    showLength(it);
    renderTotal();
  }

  function move(from, to, focus) {
    if (to < 0 || to >= items.length || from === to) return;
    const [it] = items.splice(from, 1);
    items.splice(to, 0, it);
    setDirty(true);
    renderItems(focus);
    announce(itemTitle(it) + " moved to place " + (to + 1) + " of " + items.length);
  }

  function removeItem(i) {
    const [it] = items.splice(i, 1);
    setDirty(true);
    const next = items[Math.min(i, items.length - 1)];
    renderItems(next ? "[data-key='" + next.key + "'] [data-act=remove]" : null);
    if (!items.length) addBox.querySelector("input")?.focus();
    announce("Removed " + itemTitle(it) + ". Unsaved changes.");
  }

  function insert(it, at) {
    const pos = at === undefined || at < 0 ? items.length : Math.min(at, items.length);
    items.splice(pos, 0, it);
    setDirty(true);
    renderItems();
    announce("Added " + itemTitle(it) + " at place " + (pos + 1) + ". Unsaved changes.");
  }

  // ---------------------------------------------------------------- drag and drop
  // A shortcut for Move up/down and Add: items move within the list and
  // search results drop in at a place. Dropping on the lower half of an
  // item puts it after that item.

  let dragged = null; // {key} of an item or {add: item} from the results

  function dropIndex(li, ev) {
    const i = items.findIndex((x) => String(x.key) === li.dataset.key);
    const r = li.getBoundingClientRect();
    return ev.clientY > r.top + r.height / 2 ? i + 1 : i;
  }

  // Only the item's top line drags, so that its inputs stay usable.
  function dragItem(li, handle, it) {
    handle.draggable = true;
    handle.addEventListener("dragstart", (ev) => {
      dragged = { key: it.key };
      ev.dataTransfer.setData("text/plain", itemTitle(it));
      ev.dataTransfer.effectAllowed = "move";
      li.classList.add("dragging");
    });
    handle.addEventListener("dragend", () => {
      li.classList.remove("dragging");
      dragged = null;
    });
    li.addEventListener("dragover", (ev) => {
      if (!dragged) return;
      ev.preventDefault();
      const after = dropIndex(li, ev) > items.findIndex((x) => x.key === it.key);
      li.classList.toggle("drop-before", !after);
      li.classList.toggle("drop-after", after);
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-before", "drop-after"));
    li.addEventListener("drop", (ev) => {
      if (!dragged) return;
      ev.preventDefault();
      ev.stopPropagation();
      li.classList.remove("drop-before", "drop-after");
      drop(dropIndex(li, ev));
    });
  }

  function drop(at) {
    const d = dragged;
    dragged = null;
    if (!d) return;
    if (d.add) {
      insert(d.add(), at);
      return;
    }
    const from = items.findIndex((x) => x.key === d.key);
    if (from < 0) return;
    move(from, at > from ? at - 1 : at);
  }

  // Drops below the last item (or on an empty list) append.
  list.addEventListener("dragover", (ev) => {
    if (!dragged || !canEdit()) return;
    ev.preventDefault();
    list.classList.add("over");
  });
  list.addEventListener("dragleave", () => list.classList.remove("over"));
  list.addEventListener("drop", (ev) => {
    list.classList.remove("over");
    if (!dragged || !canEdit()) return;
    ev.preventDefault();
    drop(items.length);
  });

  // ---------------------------------------------------------------- saving

  async function save() {
    if (busy || !dirty) return;
    busy = true;
    setDirty(true);
    notice.textContent = "";
    for (const r of rows.values()) {
      r.itemErr.textContent = "";
      for (const i of Object.values(r.inputs)) i.showError("");
    }
    try {
      const doc = await put(path + "/items", { version, items: items.map(toPut) });
      version = doc.version;
      pl.version = doc.version;
      items = doc.items.map(fromServer);
      busy = false;
      setDirty(false);
      renderItems();
      toast("Items saved.");
      announce("Items saved");
    } catch (e) {
      busy = false;
      setDirty(true);
      if (e instanceof ApiError && e.status === 409) await conflict(e);
      else showItemErrors(e);
    }
  }

  // 422: "items.N.member" next to that input, "items.N" on the item.
  function showItemErrors(e) {
    let first = null;
    let shown = false;
    for (const x of (e instanceof ApiError ? e.errors : [])) {
      const m = /^items\.(\d+)(?:\.(\w+))?$/.exec(x.field || "");
      const it = m && items[Number(m[1])];
      const row = it && rows.get(it.key);
      if (!row) continue;
      shown = true;
      if (m[2] && row.inputs[m[2]]) {
        row.details.open = true;
        row.inputs[m[2]].showError(x.message);
        first = first || row.inputs[m[2]];
      } else {
        row.itemErr.textContent = x.message;
        first = first || row.li.querySelector("button");
      }
    }
    notice.textContent = "Not saved: " + (shown ? e.message : errorText(e));
    if (first) first.focus();
  }

  async function discard() {
    if (!(await confirmAction("Discard your unsaved changes to the items?", "Discard"))) return;
    try {
      const doc = await get(path + "/items");
      if (doc.version !== version) {
        await load();
        render();
      } else {
        items = doc.items.map(fromServer);
        setDirty(false);
        renderItems();
      }
      notice.textContent = "";
      announce("Changes discarded");
    } catch (e) {
      notice.textContent = errorText(e);
    }
  }

  // ---------------------------------------------------------------- adding

  function buildAdd() {
    const kind = h("select", { id: nextId("kind") }, Object.entries(SOURCES).map(([k, s]) =>
      h("option", { value: k }, s.label)));
    const search = h("input", { type: "search", id: nextId("q"), autocomplete: "off",
      placeholder: "Title, artist, name…" });
    const results = h("ul", { class: "list-plain add-results pl-results" });
    const status = h("p", { class: "muted", "aria-live": "polite" });
    let seq = 0;
    let timer;

    const label = (k, x) => k === "file"
      ? [(x.title || "Untitled") + (x.artist ? " — " + x.artist : ""),
        x.duration_us ? fmtDuration(x.duration_us) : x.import_status !== "ready"
          ? "(" + x.import_status + ")" : ""]
      : [x.name, k === "webstream" ? fmtDuration(x.duration_us) : ""];

    async function find() {
      const k = kind.value;
      const src = SOURCES[k];
      const mine = ++seq;
      status.textContent = "Searching…";
      try {
        const r = await get(src.path, { ...src.query, q: search.value.trim(), limit: 20 });
        if (mine !== seq) return;
        clear(results, r.items.map((x) => {
          const [text, len] = label(k, x);
          const make = () => fromSearch(k, x);
          const li = h("li", { class: "add-row", draggable: "true" },
            h("span", {}, text, len ? h("span", { class: "muted" }, " " + len) : null),
            h("button", { type: "button", onclick: () => insert(make()) }, "Add", sr(text)));
          li.addEventListener("dragstart", (ev) => {
            dragged = { add: make };
            ev.dataTransfer.setData("text/plain", text);
            ev.dataTransfer.effectAllowed = "copy";
          });
          li.addEventListener("dragend", () => {
            dragged = null;
          });
          return li;
        }));
        status.textContent = r.items.length ? r.items.length + " of " + r.total + " shown" +
          (r.total > r.items.length ? " — refine the search for more" : "")
          : "Nothing found.";
      } catch (e) {
        if (mine === seq) status.textContent = errorText(e);
      }
    }
    kind.addEventListener("change", find);
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(find, 250);
    });
    clear(addBox, h("h2", { id: "pl-add-h" }, "Add items"),
      h("div", { class: "add-grid" },
        h("div", { class: "field" }, h("label", { for: kind.id }, "What"), kind),
        h("div", { class: "field" }, h("label", { for: search.id }, "Search"), search)),
      status, results,
      h("p", { class: "help" }, "Add puts the item at the end; drag a result onto the list " +
        "to place it, then save."));
    find();
  }

  function render() {
    renderHead();
    renderMeta();
    renderItems();
    const edit = canEdit();
    saveBar.hidden = !edit;
    addBox.hidden = !edit;
    addBox.parentElement?.classList.toggle("pl-two", edit);
    if (edit && !addBox.firstChild) buildAdd();
  }

  try {
    await load();
  } catch (e) {
    main.append(h("h1", {}, "Playlist"), h("p", { class: "bad", role: "alert" }, errorText(e)),
      h("p", {}, h("a", { href: "#/playlists" }, "Back to the playlists")));
    return null;
  }
  // Side by side on wide screens, so that results can be dragged to the list.
  main.append(heading, notice, metaBox, h("div", { class: "pl-layout" },
    h("section", { class: "card", "aria-labelledby": "pl-items-h" },
      h("h2", { id: "pl-items-h" }, "Items"), totalBox, list, saveBar),
    addBox));
  render();

  const beforeUnload = (ev) => {
    if (!dirty) return;
    ev.preventDefault();
    ev.returnValue = "";
  };
  window.addEventListener("beforeunload", beforeUnload);
  return () => {
    window.removeEventListener("beforeunload", beforeUnload);
    if (dirty) toast("Unsaved changes to the playlist's items were discarded.", "error");
  };
}
