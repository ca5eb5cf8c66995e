// Show builder: one show instance with its items, how full it is (fill,
// gap, overbooking), and for its hosts and program managers: add a file,
// playlist, smart block, webstream or a live/silence slot, reorder and
// remove items. Every edit names the instance version read; when someone
// else got there first (409) the page reloads. It polls every 3 s and
// redraws when the version changed.
import { ApiError, del, fmtDuration, get, patch, post } from "../api.js";
import { announce, clear, errorText, h, nextId, toast } from "../ui.js";

const POLL_MS = 3000;
const KINDS = [
  ["file", "A file"], ["playlist", "A playlist"], ["smart_block", "A smart block"],
  ["webstream", "A webstream"], ["live", "A live slot"], ["silence", "Silence"],
];
// Where each searchable kind is listed and which ItemInsert member names it.
const SOURCES = {
  file: { path: "/files", member: "file_id", query: { import_status: "ready" },
    label: (x) => (x.title || "Untitled") + (x.artist ? " — " + x.artist : "") +
      (x.duration_us ? " (" + fmtDuration(x.duration_us) + ")" : "") },
  playlist: { path: "/playlists", member: "playlist_id", label: (x) => x.name },
  smart_block: { path: "/smart-blocks", member: "smart_block_id", label: (x) => x.name },
  webstream: { path: "/webstreams", member: "webstream_id", label: (x) => x.name },
};
const KIND_LABEL = { file: "File", webstream: "Webstream", live: "Live", silence: "Silence" };

const clock = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit",
  minute: "2-digit", second: "2-digit" });
const span = (a, b) => (Date.parse(b) - Date.parse(a)) * 1000;

function itemTitle(it) {
  if (it.title) return it.title;
  return it.kind === "live" ? "Live slot" : it.kind === "silence" ? "Silence" : "Untitled";
}

// "90", "1:30" or "1:02:03" -> microseconds; NaN when not a length.
function parseLength(s) {
  const parts = String(s).trim().split(":");
  if (!parts[0] || parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return NaN;
  if (parts.length === 1) return Math.round(Number(parts[0]) * 60e6);
  const n = parts.map(Number);
  const secs = n.length === 2 ? n[0] * 60 + n[1] : n[0] * 3600 + n[1] * 60 + n[2];
  return Math.round(secs * 1e6);
}

function fillBar(inst) {
  const len = span(inst.starts_at, inst.ends_at);
  const whole = Math.max(len, inst.scheduled_us, 1);
  const fill = h("span", { class: "fill-in" });
  const over = h("span", { class: "fill-over" });
  fill.style.width = (Math.min(inst.scheduled_us, len) / whole) * 100 + "%";
  over.style.width = (inst.overbooked_us / whole) * 100 + "%";
  const pct = len ? Math.round((inst.scheduled_us / len) * 100) : 0;
  return h("div", { class: "card fill" },
    h("div", { class: "fill-bar", "aria-hidden": "true" }, fill, over),
    h("p", { class: "fill-numbers" },
      h("span", {}, "Scheduled ", h("strong", {}, fmtDuration(inst.scheduled_us)), " of ",
        fmtDuration(len), " (" + pct + "%)"),
      h("span", { class: inst.gap_us > 0 ? "warn" : "ok" }, "Gap ",
        h("strong", {}, fmtDuration(inst.gap_us))),
      h("span", { class: inst.overbooked_us > 0 ? "bad" : "muted" }, "Overbooked ",
        h("strong", {}, fmtDuration(inst.overbooked_us)))));
}

export default async function builder(main, ctx) {
  const id = ctx.params.id;
  const pm = ctx.roleAtLeast("program_manager");
  let inst = null;
  let hosts = [];
  let busy = false;
  let gone = false;
  const head = h("div", {});
  const notice = h("p", { class: "form-error", role: "alert" });
  const fillBox = h("div", {});
  const itemsBox = h("div", {});
  const addBox = h("section", { class: "card", "aria-labelledby": "add-h" });

  try {
    inst = await get("/instances/" + id);
  } catch (e) {
    main.append(h("h1", {}, "Show builder"), h("p", { class: "bad", role: "alert" },
      e instanceof ApiError && e.status === 404 ? "There is no such show instance."
        : errorText(e)), h("a", { href: "#/calendar" }, "Back to the calendar"));
    return null;
  }
  try {
    hosts = (await get("/shows/" + inst.show_id + "/hosts")).hosts;
  } catch (e) {
    hosts = [];
  }

  const mayEdit = () => pm || (ctx.roleAtLeast("host") && inst.hosts.includes(ctx.user.id));
  const ended = () => Date.parse(inst.ends_at) <= Date.now();
  const editable = () => mayEdit() && !ended();

  main.append(head, notice, fillBox, h("h2", { id: "items-h" }, "Items"), itemsBox, addBox);

  function renderHead() {
    const day = new Date(inst.starts_at);
    const date = day.getFullYear() + "-" + String(day.getMonth() + 1).padStart(2, "0") + "-" +
      String(day.getDate()).padStart(2, "0");
    clear(head,
      h("p", {}, h("a", { href: "#/calendar?view=day&date=" + date }, "← Calendar")),
      h("h1", {}, inst.show_name),
      h("p", {}, day.toLocaleDateString(undefined, { weekday: "long", year: "numeric",
        month: "long", day: "numeric" }) + ", " + clock(inst.starts_at) + " – " +
        clock(inst.ends_at)),
      h("p", { class: "muted" }, "Hosts: " + (hosts.length ? hosts.map((x) => x.display_name ||
        x.name).join(", ") : "none")),
      inst.content_instance_id !== inst.id ? h("p", { class: "muted" },
        "This show is linked: these items are shared with its other instances.") : null,
      inst.rebroadcast_of ? h("p", { class: "muted" }, "A rebroadcast.") : null,
      !mayEdit() ? h("p", { class: "muted" }, ctx.roleAtLeast("host")
        ? "Only the show's hosts and program managers may change it."
        : "You may look at this show; changing it needs a host of the show.") : null,
      mayEdit() && ended() ? h("p", { class: "muted" }, "This show has ended: it cannot be" +
        " changed any more.") : null);
  }

  function renderItems() {
    const items = inst.items;
    if (!items.length) {
      clear(itemsBox, h("p", { class: "muted" }, "Nothing scheduled in this show yet."));
      return;
    }
    const end = Date.parse(inst.ends_at);
    const edit = editable();
    clear(itemsBox, h("div", { class: "scroll" }, h("table", { class: "data builder-items",
      "aria-labelledby": "items-h" },
    h("thead", {}, h("tr", {}, ["#", "Start", "End", "Kind", "Title", "Length"].map((c) =>
      h("th", { scope: "col" }, c)), edit ? h("th", { scope: "col" },
      h("span", { class: "visually-hidden" }, "Actions")) : null)),
    h("tbody", {}, items.map((it, i) => {
      const over = Date.parse(it.ends_at) > end;
      const tr = h("tr", { class: over ? "over" : "" },
        h("td", { "data-label": "#" }, String(i + 1)),
        h("td", { "data-label": "Start" }, clock(it.starts_at)),
        h("td", { "data-label": "End" }, clock(it.ends_at), over ? h("span", { class: "bad" },
          " (after the end)") : null),
        h("td", { "data-label": "Kind" }, KIND_LABEL[it.kind] || it.kind,
          it.origin !== "manual" ? h("span", { class: "muted" }, " (" + it.origin + ")") : null),
        h("td", { "data-label": "Title" }, h("span", {}, itemTitle(it), it.artist
          ? h("span", { class: "muted" }, " — " + it.artist) : null)),
        h("td", { "data-label": "Length" }, fmtDuration(span(it.starts_at, it.ends_at))),
        edit ? h("td", { class: "row-actions" }, rowActions(it, i, items.length)) : null);
      if (edit) dragRow(tr, it);
      return tr;
    })))));
  }

  function rowActions(it, i, n) {
    const name = " " + itemTitle(it);
    return [
      h("button", { type: "button", disabled: i === 0, onclick: () => move(it, i - 1) },
        "Up", h("span", { class: "visually-hidden" }, name)),
      h("button", { type: "button", disabled: i === n - 1, onclick: () => move(it, i + 1) },
        "Down", h("span", { class: "visually-hidden" }, name)),
      h("button", { type: "button", class: "danger", onclick: () => remove(it) },
        "Remove", h("span", { class: "visually-hidden" }, name)),
    ];
  }

  // Drag and drop as a shortcut for the Up/Down buttons.
  function dragRow(tr, it) {
    tr.draggable = true;
    tr.addEventListener("dragstart", (ev) => {
      ev.dataTransfer.setData("text/plain", String(it.id));
      ev.dataTransfer.effectAllowed = "move";
    });
    tr.addEventListener("dragover", (ev) => {
      ev.preventDefault();
      tr.classList.add("drop");
    });
    tr.addEventListener("dragleave", () => tr.classList.remove("drop"));
    tr.addEventListener("drop", (ev) => {
      ev.preventDefault();
      tr.classList.remove("drop");
      const src = inst.items.find((x) => String(x.id) === ev.dataTransfer.getData("text/plain"));
      if (src && src.id !== it.id) move(src, inst.items.indexOf(it));
    });
  }

  function render() {
    renderHead();
    clear(fillBox, fillBar(inst));
    renderItems();
    positionSelect.sync();
    addBox.hidden = !editable();
  }

  // One edit at a time; the instance the API answers with is drawn.
  async function edit(label, fn) {
    if (busy) return;
    busy = true;
    notice.textContent = "";
    try {
      const r = await fn();
      inst = r && r.items ? r : await get("/instances/" + id);
      render();
      announce(label);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        await reload();
        notice.textContent = "Someone else changed this show meanwhile (or it has started or" +
          " ended): it was reloaded. Please check and try again. (" + e.message + ")";
      } else if (e instanceof ApiError && e.status === 403) {
        notice.textContent = "Not allowed: " + e.message;
      } else {
        notice.textContent = errorText(e);
      }
      throw e;
    } finally {
      busy = false;
    }
  }

  const quiet = (p) => p.catch(() => {});
  const move = (it, pos) => quiet(edit("Moved " + itemTitle(it) + " to place " + (pos + 1),
    () => patch("/schedule-items/" + it.id, { position: pos, version: inst.version })));
  const remove = (it) => quiet(edit("Removed " + itemTitle(it), () =>
    del("/schedule-items/" + it.id, { version: inst.version })));

  async function reload() {
    try {
      inst = await get("/instances/" + id);
      render();
    } catch (e) {
      notice.textContent = errorText(e);
    }
  }

  // ---------------------------------------------------------- adding

  const positionSelect = (() => {
    const sel = h("select", { id: nextId("pos") });
    sel.sync = () => {
      const keep = sel.value;
      clear(sel, h("option", { value: "-1" }, "At the end"), inst.items.map((it, i) =>
        h("option", { value: String(i) }, "Before " + (i + 1) + ". " + itemTitle(it))));
      sel.value = [...sel.options].some((o) => o.value === keep) ? keep : "-1";
    };
    return sel;
  })();

  function buildAdd() {
    const kind = h("select", { id: nextId("kind") }, KINDS.map(([v, l]) =>
      h("option", { value: v }, l)));
    const search = h("input", { type: "search", id: nextId("q"), autocomplete: "off" });
    const results = h("ul", { class: "list-plain add-results", "aria-live": "polite" });
    const length = h("input", { id: nextId("len"), inputmode: "decimal", value: "30",
      "aria-describedby": "len-help" });
    const status = h("p", { class: "form-error", role: "alert" });
    const searchWrap = h("div", { class: "field" }, h("label", { for: search.id }, "Search"),
      search);
    const lengthWrap = h("div", { class: "field" }, h("label", { for: length.id }, "Length"),
      length, h("small", { class: "help", id: "len-help" },
        "Minutes (30), or m:ss / h:mm:ss (1:30:00)"));
    const slotButton = h("button", { type: "button", class: "primary",
      onclick: () => add({ kind: kind.value }) }, "Add the slot");
    let timer;
    let seq = 0;

    async function find() {
      const src = SOURCES[kind.value];
      if (!src) return;
      const mine = ++seq;
      clear(results, h("li", { class: "muted" }, "Searching…"));
      try {
        const r = await get(src.path, { q: search.value.trim(), limit: 10, ...src.query });
        if (mine !== seq) return;
        clear(results, r.items.length ? r.items.map((x) => h("li", { class: "add-row" },
          h("span", {}, src.label(x)), h("button", { type: "button", onclick: () =>
            add({ [src.member]: x.id }, src.label(x)) }, "Add",
          h("span", { class: "visually-hidden" }, " " + src.label(x)))))
          : h("li", { class: "muted" }, "Nothing found."));
        announce(r.items.length + " found");
      } catch (e) {
        if (mine === seq) clear(results, h("li", { class: "bad" }, errorText(e)));
      }
    }

    function sync() {
      const searchable = !!SOURCES[kind.value];
      searchWrap.hidden = !searchable;
      results.hidden = !searchable;
      lengthWrap.hidden = !["live", "silence", "webstream"].includes(kind.value);
      slotButton.hidden = searchable;
      status.textContent = "";
      if (searchable) find();
    }

    async function add(what, label) {
      status.textContent = "";
      const body = { ...what, version: inst.version, position: Number(positionSelect.value) };
      if (!lengthWrap.hidden) {
        const us = parseLength(length.value);
        if (!(us > 0)) {
          status.textContent = "Give a length, e.g. 30 or 1:30:00.";
          length.focus();
          return;
        }
        body.length_us = us;
      }
      try {
        await edit("Added " + (label || KINDS.find(([v]) => v === kind.value)[1]), () =>
          post("/instances/" + id + "/items", body));
        toast("Added " + (label || "the slot"));
      } catch (e) {
        if (!(e instanceof ApiError && (e.status === 409 || e.status === 403))) {
          status.textContent = errorText(e);
          notice.textContent = "";
        }
      }
    }

    kind.addEventListener("change", sync);
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(find, 250);
    });
    clear(addBox, h("h2", { id: "add-h" }, "Add to the show"),
      h("div", { class: "add-grid" },
        h("div", { class: "field" }, h("label", { for: kind.id }, "What"), kind),
        h("div", { class: "field" }, h("label", { for: positionSelect.id }, "Where"),
          positionSelect),
        lengthWrap),
      searchWrap, results, slotButton, status);
    sync();
  }

  buildAdd();
  render();

  // Someone else's edits: poll, and redraw only when the version moved.
  const poll = setInterval(async () => {
    if (busy || gone || document.hidden) return;
    try {
      const r = await get("/instances/" + id);
      if (gone || busy || r.version === inst.version) return;
      inst = r;
      render();
      announce("The show was changed by someone else; updated.");
    } catch (e) {
      // A missed poll is retried in 3 s.
    }
  }, POLL_MS);
  return () => {
    gone = true;
    clearInterval(poll);
  };
}
