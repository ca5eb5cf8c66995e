// Calendar: the show instances of a day, a week or a month (an agenda
// list on phones), each a link to its show builder. Program managers
// make and edit shows here (details, recurrence rules, hosts, exceptions)
// and move or resize an instance (with its ⋯ menu, or by dragging it in
// the day and week views): this one (a "moved" exception), this and
// following (the rule is ended and a new one starts) or all (the rule is
// changed).
import { del, fmtDuration, get, patch, post, put } from "../api.js";
import { announce, clear, confirmAction, dialog, errorText, form, h, nextId, toast }
  from "../ui.js";

const VIEWS = [["day", "Day"], ["week", "Week"], ["month", "Month"]];
const DAY_MS = 86400000;
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const FREQUENCIES = [["weekly", "Weekly"], ["once", "Once"],
  ["monthly_by_day", "Monthly, same day of the month"],
  ["monthly_by_weekday", "Monthly, same weekday (e.g. 2nd Tuesday)"]];
const LIVE_INPUTS = [["none", "No live input"], ["hosts", "The show's hosts"],
  ["any", "Any DJ"]];

// ---------------------------------------------------------------- dates

const two = (n) => String(n).padStart(2, "0");
const ymd = (d) => d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const today = () => addDays(new Date(), 0);

function parseYmd(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
  return m ? new Date(+m[1], +m[2] - 1, +m[3]) : null;
}

// Whole days from date string a to b (both YYYY-MM-DD).
function dayDiff(a, b) {
  const [x, y] = [a, b].map((s) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8)));
  return Math.round((y - x) / DAY_MS);
}

function shiftYmd(s, n) {
  const d = new Date(Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8)) + n * DAY_MS);
  return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate());
}

const weekStart = (d) => addDays(d, -((d.getDay() + 6) % 7));

// The window a view shows: [from, to) as local dates, and the days in it.
function windowOf(view, date) {
  let from;
  let to;
  if (view === "day") {
    from = date;
    to = addDays(date, 1);
  } else if (view === "week") {
    from = weekStart(date);
    to = addDays(from, 7);
  } else {
    from = weekStart(new Date(date.getFullYear(), date.getMonth(), 1));
    const last = new Date(date.getFullYear(), date.getMonth() + 1, 0);
    to = addDays(weekStart(last), 7);
  }
  const days = [];
  for (let d = from; d < to; d = addDays(d, 1)) days.push(d);
  return { from, to, days };
}

function stepDate(view, date, dir) {
  if (view === "day") return addDays(date, dir);
  if (view === "week") return addDays(date, 7 * dir);
  return new Date(date.getFullYear(), date.getMonth() + dir, 1);
}

function rangeLabel(view, w, date) {
  const f = (d, o) => d.toLocaleDateString(undefined, o);
  if (view === "day") return f(date, { weekday: "long", year: "numeric", month: "long",
    day: "numeric" });
  if (view === "month") return f(date, { year: "numeric", month: "long" });
  return f(w.from, { month: "short", day: "numeric" }) + " – " +
    f(addDays(w.to, -1), { year: "numeric", month: "short", day: "numeric" });
}

const hm = (ms) => new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit",
  minute: "2-digit" });

// A time zone's wall clock at ms: {date, time, wall (the wall time as if UTC)}.
function zoneParts(ms, tz) {
  const f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { date: p.year + "-" + p.month + "-" + p.day, time: p.hour + ":" + p.minute,
    wall: Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) };
}

// A wall-clock date and time in tz -> ms since the epoch (two passes settle
// the offset, also next to a daylight-saving change).
function zonedToUtc(date, time, tz) {
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let t = wall;
  for (let i = 0; i < 2; i++) t = wall - (zoneParts(t, tz).wall - t);
  return t;
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");

// The zones to offer, with the one given first when the list lacks it
// (Chromium leaves out "UTC").
function timeZones(current) {
  try {
    const list = Intl.supportedValuesOf("timeZone");
    return list.includes(current) ? list : [current, ...list];
  } catch (e) {
    return null;
  }
}

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

// ------------------------------------------------------------- colours

const validColor = (c) => (/^#[0-9a-f]{6}$/i.test(c || "") ? c : null);

// Paint el in the show's colour with a readable text colour (the CSSOM,
// not a style attribute: the CSP forbids those).
function paint(el, color) {
  const c = validColor(color);
  if (!c) {
    el.classList.add("cal-nocolor");
    return el;
  }
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  el.style.backgroundColor = c;
  el.style.color = 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
  return el;
}

// ---------------------------------------------------------- instances

function fillText(inst) {
  const len = (Date.parse(inst.ends_at) - Date.parse(inst.starts_at)) * 1000;
  let s = inst.items_count + (inst.items_count === 1 ? " item" : " items") + ", " +
    fmtDuration(inst.scheduled_us) + " of " + fmtDuration(len);
  if (inst.overbooked_us > 0) s += ", overbooked by " + fmtDuration(inst.overbooked_us);
  else if (inst.gap_us > 0) s += ", " + fmtDuration(inst.gap_us) + " free";
  return s;
}

// withDate: say the date to screen readers; short: the start time only.
function instLink(inst, withDate, short) {
  const a = Date.parse(inst.starts_at);
  const b = Date.parse(inst.ends_at);
  return h("a", { href: "#/instances/" + inst.id, class: "cal-link" },
    withDate ? h("span", { class: "visually-hidden" }, new Date(a).toLocaleDateString(
      undefined, { weekday: "long", month: "long", day: "numeric" }) + ", ") : null,
    h("span", { class: "cal-time" }, hm(a) + (short ? "" : "–" + hm(b))), " ",
    h("span", { class: "cal-name" }, inst.show_name));
}

// Lay the day's instances out in side-by-side lanes where they overlap.
function lanes(list) {
  const out = [];
  let cluster = [];
  let clusterEnd = -Infinity;
  const flush = () => {
    const n = Math.max(...cluster.map((x) => x.lane)) + 1;
    for (const x of cluster) x.lanes = n;
    cluster = [];
  };
  for (const inst of list) {
    if (cluster.length && inst.a >= clusterEnd) flush();
    const used = new Set(cluster.filter((x) => x.b > inst.a).map((x) => x.lane));
    let lane = 0;
    while (used.has(lane)) lane++;
    const x = { ...inst, lane };
    cluster.push(x);
    out.push(x);
    clusterEnd = Math.max(clusterEnd, inst.b);
  }
  if (cluster.length) flush();
  return out;
}

// The part of each instance that falls on day (clipped at midnight).
function onDay(items, day) {
  const d0 = day.getTime();
  const d1 = addDays(day, 1).getTime();
  return items.map((inst) => ({ inst, a: Math.max(d0, Date.parse(inst.starts_at)),
    b: Math.min(d1, Date.parse(inst.ends_at)) })).filter((x) => x.b > x.a)
    .sort((x, y) => x.a - y.a || y.b - x.b);
}

// --------------------------------------------------------- the screen

export default async function calendar(main, ctx) {
  const pm = ctx.roleAtLeast("program_manager");
  const q = ctx.query;
  const state = {
    view: VIEWS.some(([v]) => v === q.get("view")) ? q.get("view") : "week",
    date: parseYmd(q.get("date")) || today(),
    items: [],
  };
  let seq = 0;
  // Program managers drag blocks in the day and week views; this says so
  // (and names the keyboard way) to screen readers.
  const dragHelp = pm ? h("p", { id: nextId("caldrag"), class: "visually-hidden" },
    "Program managers can drag this show to another time or day, or drag its bottom " +
    "edge to change its length, or move or resize it with its ⋯ menu.") : null;
  const range = h("h2", { class: "cal-range", "aria-live": "polite" });
  const body = h("div", { class: "cal-body" });
  const viewButtons = VIEWS.map(([v, label]) => h("button", { type: "button",
    "aria-pressed": "false", onclick: () => go(state.date, v) }, label));
  const dateInput = h("input", { type: "date", id: nextId("caldate") });
  dateInput.addEventListener("change", () => {
    const d = parseYmd(dateInput.value);
    if (d) go(d, state.view);
  });

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Calendar"), h("div", { class: "actions" },
      pm ? h("button", { type: "button", class: "primary", onclick: () => showPanel(null) },
        "New show") : null,
      pm ? h("button", { type: "button", onclick: pickShow }, "Edit a show…") : null)),
    h("div", { class: "cal-toolbar" },
      h("div", { class: "actions", role: "group", "aria-label": "Move in time" },
        h("button", { type: "button", onclick: () => go(stepDate(state.view, state.date, -1)) },
          "Previous"),
        h("button", { type: "button", onclick: () => go(today()) }, "Today"),
        h("button", { type: "button", onclick: () => go(stepDate(state.view, state.date, 1)) },
          "Next")),
      h("div", { class: "actions", role: "group", "aria-label": "View" }, viewButtons),
      h("div", { class: "cal-goto" }, h("label", { for: dateInput.id }, "Go to date"),
        dateInput)),
    range, body, dragHelp);

  function go(date, view = state.view) {
    state.date = date;
    state.view = view;
    // replaceState: no hashchange, so the router does not remount the screen.
    history.replaceState(null, "", "#/calendar?view=" + view + "&date=" + ymd(date));
    load();
  }

  async function load() {
    const mine = ++seq;
    const w = windowOf(state.view, state.date);
    viewButtons.forEach((b, i) => b.setAttribute("aria-pressed",
      String(VIEWS[i][0] === state.view)));
    dateInput.value = ymd(state.date);
    range.textContent = rangeLabel(state.view, w, state.date);
    clear(body, h("p", { class: "loading" }, "Loading…"));
    try {
      const r = await get("/instances", { from: w.from.toISOString(),
        to: w.to.toISOString() });
      if (mine !== seq) return;
      state.items = r.items;
      render(w);
      announce(range.textContent + ": " + r.items.length + " shows");
    } catch (e) {
      if (mine === seq) clear(body, h("p", { class: "bad", role: "alert" }, errorText(e)));
    }
  }

  function actionsButton(inst) {
    if (!pm) return null;
    return h("button", { type: "button", class: "cal-more", "aria-label": "Change " +
      inst.show_name + " on " + new Date(inst.starts_at).toLocaleString(), "aria-haspopup":
      "dialog", onclick: () => instanceMenu(inst) }, "⋯");
  }

  function render(w) {
    const grid = state.view === "month" ? monthGrid(w) : timeGrid(w);
    clear(body, h("div", { class: "cal-wide" }, grid), agenda(w));
    const scroller = body.querySelector(".cal-scroll");
    if (scroller) {
      // Start at the first show of the period, or at 06:00.
      const first = Math.min(6 * 60, ...state.items.map((i) => {
        const d = new Date(i.starts_at);
        return d.getHours() * 60 + d.getMinutes();
      }));
      scroller.scrollTop = (first / 1440) * scroller.scrollHeight - 8;
    }
  }

  function timeGrid(w) {
    const hours = h("div", { class: "cal-col cal-hours", "aria-hidden": "true" },
      h("div", { class: "cal-dayhead" }), h("div", { class: "cal-track" },
        Array.from({ length: 24 }, (_, i) => h("span", {}, two(i) + ":00"))));
    columns = [];
    const cols = w.days.map((day) => {
      const track = h("div", { class: "cal-track" });
      columns.push({ track, day });
      const list = lanes(onDay(state.items, day));
      const d0 = day.getTime();
      for (const x of list) {
        const block = paint(h("div", { class: "cal-block" }, instLink(x.inst, true),
          actionsButton(x.inst)), x.inst.color);
        block.style.top = ((x.a - d0) / DAY_MS) * 100 + "%";
        block.style.height = ((x.b - x.a) / DAY_MS) * 100 + "%";
        block.style.left = (x.lane / x.lanes) * 100 + "%";
        block.style.width = 100 / x.lanes + "%";
        if (pm && x.inst.recurrence_id && x.inst.instance_date) {
          draggable(block, x.inst, day, x.b === Date.parse(x.inst.ends_at));
        }
        track.append(block);
      }
      const isToday = ymd(day) === ymd(new Date());
      return h("section", { class: "cal-col" + (isToday ? " today" : ""), "aria-label":
        day.toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric" }) },
      h("h3", { class: "cal-dayhead" }, h("button", { type: "button", class: "link",
        onclick: () => go(day, "day") }, day.toLocaleDateString(undefined,
        { weekday: "short", day: "numeric" }))),
      list.length ? null : h("p", { class: "visually-hidden" }, "Nothing scheduled"),
      track);
    });
    const grid = h("div", { class: "cal-grid" }, hours, cols);
    grid.style.gridTemplateColumns = "3.5rem repeat(" + w.days.length + ", minmax(0, 1fr))";
    return h("div", { class: "cal-scroll" }, grid);
  }

  function monthGrid(w) {
    const month = state.date.getMonth();
    return h("div", {},
      h("div", { class: "cal-month-head", "aria-hidden": "true" },
        WEEKDAYS.map((d) => h("span", {}, d))),
      h("ol", { class: "cal-month" }, w.days.map((day) => {
        const list = onDay(state.items, day).filter((x) =>
          Date.parse(x.inst.starts_at) >= day.getTime() || x.a === day.getTime());
        return h("li", { class: "cal-cell" + (day.getMonth() !== month ? " other" : "") +
          (ymd(day) === ymd(new Date()) ? " today" : "") },
        h("h3", { class: "cal-dayhead" }, h("button", { type: "button", class: "link",
          "aria-label": day.toLocaleDateString(undefined, { weekday: "long", month: "long",
            day: "numeric" }) + (list.length ? ", " + list.length + " shows" : ""),
          onclick: () => go(day, "day") }, String(day.getDate()))),
        list.length ? h("ul", { class: "list-plain" }, list.map((x) =>
          h("li", { class: "cal-chip" }, paint(h("span", { class: "cal-dot",
            "aria-hidden": "true" }), x.inst.color), instLink(x.inst, false, true),
          actionsButton(x.inst)))) : null);
      })));
  }

  // The phone layout: days with shows, one under the other.
  function agenda(w) {
    const days = w.days.map((day) => [day, onDay(state.items, day).filter((x) =>
      Date.parse(x.inst.starts_at) >= day.getTime() || x.a === day.getTime())])
      .filter(([, list]) => list.length);
    if (!days.length) {
      return h("div", { class: "cal-agenda" }, h("p", { class: "muted" },
        "Nothing scheduled in this period."));
    }
    return h("div", { class: "cal-agenda" }, days.map(([day, list]) => h("section", {},
      h("h3", {}, day.toLocaleDateString(undefined, { weekday: "long", month: "long",
        day: "numeric" })),
      h("ul", { class: "list-plain" }, list.map((x) => h("li", { class: "cal-agenda-item" },
        paint(h("span", { class: "cal-bar", "aria-hidden": "true" }), x.inst.color),
        h("div", {}, instLink(x.inst, false), h("small", { class: "muted cal-fill" },
          fillText(x.inst))), actionsButton(x.inst)))))));
  }

  // ------------------------------------------- program manager's tools

  async function instanceMenu(inst) {
    const close = (ev) => ev.target.closest("dialog").close();
    const when = new Date(inst.starts_at).toLocaleString(undefined, { weekday: "long",
      month: "long", day: "numeric", hour: "2-digit", minute: "2-digit" });
    const content = h("div", { class: "cal-menu" },
      h("p", {}, when + " – " + hm(Date.parse(inst.ends_at))),
      h("p", { class: "muted" }, fillText(inst)),
      h("div", { class: "actions" },
        h("a", { class: "button primary", href: "#/instances/" + inst.id, onclick: close },
          "Open the show builder"),
        inst.recurrence_id ? h("button", { type: "button", onclick: (ev) => {
          close(ev);
          moveDialog(inst);
        } }, "Move or resize…") : null,
        inst.recurrence_id && inst.instance_date ? h("button", { type: "button",
          class: "danger", onclick: async (ev) => {
            close(ev);
            await cancelDate(inst);
          } }, "Cancel this date") : null,
        h("button", { type: "button", onclick: (ev) => {
          close(ev);
          showPanel(inst.show_id);
        } }, "Edit the show…")),
      inst.recurrence_id ? null : h("p", { class: "muted" },
        "This instance is not made by a rule, so it cannot be moved here."));
    await dialog(inst.show_name, content);
  }

  async function cancelDate(inst) {
    if (!(await confirmAction("Cancel " + inst.show_name + " on " + inst.instance_date +
      "? The items placed in it go with it.", "Cancel this date"))) return;
    try {
      await post("/recurrences/" + inst.recurrence_id + "/exceptions",
        { instance_date: inst.instance_date, kind: "cancelled" });
      toast("Cancelled " + inst.show_name + " on " + inst.instance_date);
      load();
    } catch (e) {
      toast(errorText(e), "error");
    }
  }

  // preset: {start, end} in ms, the times a drag dropped the instance at
  // (else its own). Resolves true when the move was saved.
  async function moveDialog(inst, preset) {
    let rule;
    try {
      rule = await get("/recurrences/" + inst.recurrence_id);
    } catch (e) {
      toast(errorText(e), "error");
      return false;
    }
    const tz = rule.timezone;
    const start = preset ? preset.start : Date.parse(inst.starts_at);
    const a = zoneParts(start, tz);
    const mins = Math.round(((preset ? preset.end : Date.parse(inst.ends_at)) - start) / 60000);
    let saved = false;
    const scopeName = nextId("scope");
    const scopes = [["one", "This one only"], ["following", "This and the following ones"],
      ["all", "All of them"]];
    const scope = h("fieldset", { class: "cal-scope" }, h("legend", {}, "Change"),
      scopes.map(([v, label], i) => {
        const id = nextId("sc");
        return h("div", { class: "field check" }, h("input", { type: "radio", id,
          name: scopeName, value: v, checked: i === 0 }), h("label", { for: id }, label));
      }));
    const f = form([
      { name: "date", label: "Date", type: "date", value: a.date, required: true },
      { name: "start_time", label: "Start time (" + tz + ")", type: "time", value: a.time,
        required: true },
      { name: "duration_us", label: "Length in minutes", type: "number", value: mins, min: 1,
        required: true },
    ], "Save", async (v) => {
      const which = scope.querySelector("input:checked").value;
      await applyMove(inst, rule, which, v);
      saved = true;
      f.closest("dialog").close();
      toast("Moved " + inst.show_name);
      load();
    }, scope);
    await dialog("Move or resize " + inst.show_name, h("div", {},
      h("p", { class: "muted" }, "Times are in the show's time zone, " + tz + "."), f));
    return saved;
  }

  // The three ways to move: an exception, a split rule, or the rule itself.
  async function applyMove(inst, rule, which, v) {
    if (!v.date || !v.start_time || !(v.duration_us > 0)) {
      throw new Error("Give a date, a start time and a length.");
    }
    const dur = Math.round(v.duration_us * 60e6);
    const delta = dayDiff(inst.instance_date, v.date);
    if (which === "one") {
      const start = zonedToUtc(v.date, v.start_time, rule.timezone);
      const ex = (await get("/recurrences/" + rule.id + "/exceptions")).items
        .find((x) => x.instance_date === inst.instance_date);
      // One exception per date: an earlier move is replaced.
      if (ex) await del("/exceptions/" + ex.id);
      await post("/recurrences/" + rule.id + "/exceptions", { instance_date:
        inst.instance_date, kind: "moved", moved_starts_at: iso(start),
      moved_ends_at: iso(start + dur / 1000) });
      return;
    }
    const changes = { start_time: v.start_time, duration_us: dur };
    if (delta) {
      if (rule.frequency === "weekly") changes.weekdays = rotateDays(rule.weekdays, delta);
    }
    if (which === "all" || inst.instance_date <= rule.start_date) {
      if (delta) changes.start_date = shiftYmd(rule.start_date, delta);
      await patch("/recurrences/" + rule.id, changes);
      return;
    }
    // This and following: the old rule ends the day before, a new one
    // takes over from this date with the new times.
    const next = { frequency: rule.frequency, repeat_every: rule.repeat_every,
      weekdays: rule.weekdays, week_position: rule.week_position, start_date: v.date,
      timezone: rule.timezone, end_date: rule.end_date || null, ...changes };
    if (next.end_date && next.end_date < next.start_date) next.end_date = next.start_date;
    const oldEnd = rule.end_date;
    await patch("/recurrences/" + rule.id, { end_date: shiftYmd(inst.instance_date, -1) });
    try {
      await post("/shows/" + rule.show_id + "/recurrences", next);
    } catch (e) {
      await patch("/recurrences/" + rule.id, { end_date: oldEnd || null }).catch(() => {});
      throw e;
    }
  }

  // ------------------------------------------------ drag to move/resize

  // columns: the day columns of the time grid shown ({track, day}); drag:
  // the drag in progress. A drop opens moveDialog prefilled, which asks
  // "this one / following / all"; the block only moves when it saves.
  let columns = [];
  let drag = null;
  let swallowClick = false;

  // end: this piece of the block holds the instance's end (gets the handle).
  function draggable(block, inst, day, end) {
    block.classList.add("cal-drag");
    block.setAttribute("aria-describedby", dragHelp.id);
    const link = block.querySelector(".cal-link");
    link.setAttribute("aria-describedby", dragHelp.id);
    link.draggable = false; // no native link drag: it would cancel the pointer
    // The handle is for the pointer only (not focusable, hidden): the
    // keyboard resizes with the ⋯ menu.
    if (end) block.append(h("div", { class: "cal-resize", "aria-hidden": "true" }));
    block.addEventListener("pointerdown", (ev) => startDrag(ev, block, inst, day));
    // The click that ends a real drag must not open the builder.
    block.addEventListener("click", (ev) => {
      if (!swallowClick) return;
      ev.preventDefault();
      ev.stopPropagation();
    }, true);
  }

  // Minutes from the start of day to date d (wall clock; past midnight > 1440).
  const offsetOf = (day, d) => dayDiff(ymd(day), ymd(d)) * 1440 + d.getHours() * 60 +
    d.getMinutes();
  const atOffset = (day, min) => new Date(day.getFullYear(), day.getMonth(), day.getDate(),
    0, min);
  const snap5 = (min) => Math.round(min / 5) * 5;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  function startDrag(ev, block, inst, day) {
    if (drag || !ev.isPrimary || ev.button !== 0 || ev.target.closest(".cal-more")) return;
    swallowClick = false;
    const resize = !!ev.target.closest(".cal-resize");
    if (resize) ev.preventDefault(); // no text selection
    const col = columns.findIndex((c) => c.track === block.parentElement);
    const top = block.parentElement.getBoundingClientRect().top;
    const d = {
      inst, block, resize, col, id: ev.pointerId, x0: ev.clientX, y0: ev.clientY,
      grab: ev.clientY - top, // where in the track, so scrolling while dragging is fine
      startOff: offsetOf(day, new Date(inst.starts_at)),
      endOff: offsetOf(day, new Date(inst.ends_at)),
      moved: false, cancelled: false, to: null, ghost: null,
    };
    const move = (e) => e.pointerId === d.id && dragMove(d, e);
    const up = (e) => {
      if (e.pointerId !== d.id) return;
      d.done();
      if (!d.moved) return;
      swallowClick = true;
      setTimeout(() => (swallowClick = false), 0);
      if (!d.cancelled) drop(d);
    };
    const cancel = (e) => {
      if (e.pointerId !== d.id) return;
      d.done();
      restore(d);
    };
    const key = (e) => {
      if (e.key !== "Escape" || !d.moved || d.cancelled) return;
      e.preventDefault();
      d.cancelled = true; // the pointer is still down: wait for its up
      restore(d);
      announce("Drag cancelled");
    };
    d.done = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", cancel);
      window.removeEventListener("keydown", key, true);
      if (drag === d) drag = null;
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", cancel);
    window.addEventListener("keydown", key, true);
    drag = d;
  }

  function dragMove(d, ev) {
    if (d.cancelled) return;
    if (!d.moved) {
      // Below a few pixels it is a click (which opens the builder).
      if (Math.hypot(ev.clientX - d.x0, ev.clientY - d.y0) < 5) return;
      d.moved = true;
      try {
        d.block.setPointerCapture(d.id);
      } catch (e) { /* the pointer is gone: pointerup/cancel follows */ }
      d.block.classList.add("cal-dragging");
      d.ghost = h("div", { class: "cal-ghost", "aria-hidden": "true" });
    }
    ev.preventDefault();
    autoScroll(d.block.closest(".cal-scroll"), ev.clientY);
    const rect = columns[d.col].track.getBoundingClientRect();
    const dy = ((ev.clientY - rect.top - d.grab) / rect.height) * 1440;
    if (d.resize) {
      const end = clamp(snap5(d.endOff + dy), Math.max(d.startOff, 0) + 5, 1440);
      d.to = { col: d.col, startOff: d.startOff, endOff: end };
    } else {
      const col = state.view === "week" ? columnAt(ev.clientX) : d.col;
      const start = clamp(snap5(d.startOff + dy), 0, 1435);
      d.to = { col, startOff: start, endOff: start + d.endOff - d.startOff };
    }
    drawGhost(d);
  }

  function columnAt(x) {
    const i = columns.findIndex((c) => x < c.track.getBoundingClientRect().right);
    return i < 0 ? columns.length - 1 : i;
  }

  // Scroll the grid when the pointer nears its top or bottom edge.
  function autoScroll(scroller, y) {
    if (!scroller) return;
    const r = scroller.getBoundingClientRect();
    if (y < r.top + 48) scroller.scrollTop -= 12;
    else if (y > r.bottom - 16) scroller.scrollTop += 12;
  }

  // The new start and end (ms) of a drag's current target.
  function target(d) {
    const day = columns[d.to.col].day;
    return { start: atOffset(day, d.to.startOff).getTime(),
      end: atOffset(day, d.to.endOff).getTime() };
  }

  function targetText(d) {
    const t = target(d);
    return new Date(t.start).toLocaleDateString(undefined, { weekday: "short" }) + " " +
      hm(t.start) + "–" + hm(t.end);
  }

  function drawGhost(d) {
    const top = Math.max(d.to.startOff, 0);
    const bottom = Math.min(d.to.endOff, 1440);
    d.ghost.style.top = (top / 1440) * 100 + "%";
    d.ghost.style.height = (Math.max(bottom - top, 0) / 1440) * 100 + "%";
    d.ghost.textContent = targetText(d);
    const track = columns[d.to.col].track;
    if (d.ghost.parentElement !== track) track.append(d.ghost);
  }

  function restore(d) {
    d.ghost?.remove();
    d.block.classList.remove("cal-dragging");
  }

  // The ghost stays while the dialog is open; saving redraws the calendar.
  async function drop(d) {
    const t = d.to && target(d);
    if (!t || (t.start === Date.parse(d.inst.starts_at) &&
      t.end === Date.parse(d.inst.ends_at))) {
      restore(d);
      return;
    }
    announce(d.inst.show_name + " dropped at " + new Date(t.start).toLocaleDateString(
      undefined, { weekday: "long", month: "long", day: "numeric" }) + ", " + hm(t.start) +
      "–" + hm(t.end) + ". Choose what to change and save.");
    if (!(await moveDialog(d.inst, t))) {
      restore(d);
      announce("Not moved");
    }
  }

  async function pickShow() {
    const results = h("ul", { class: "list-plain", "aria-live": "polite" });
    const box = h("input", { type: "search", id: nextId("showq") });
    let t;
    const find = async () => {
      try {
        const r = await get("/shows", { q: box.value.trim(), limit: 20, sort: "name" });
        clear(results, r.items.length ? r.items.map((s) => h("li", { class: "cal-pick" },
          paint(h("span", { class: "cal-dot", "aria-hidden": "true" }), s.color),
          h("span", {}, s.name), h("button", { type: "button", onclick: (ev) => {
            ev.target.closest("dialog").close();
            showPanel(s.id);
          } }, "Edit", h("span", { class: "visually-hidden" }, " " + s.name))))
          : h("li", { class: "muted" }, "No shows found."));
      } catch (e) {
        clear(results, h("li", { class: "bad" }, errorText(e)));
      }
    };
    box.addEventListener("input", () => {
      clearTimeout(t);
      t = setTimeout(find, 250);
    });
    find();
    await dialog("Edit a show", h("div", { class: "field" },
      h("label", { for: box.id }, "Find a show"), box, results));
  }

  async function showPanel(showId) {
    const panel = h("div", { class: "cal-panel" });
    const p = dialog(showId ? "Edit show" : "New show", panel);
    await renderShowPanel(panel, showId);
    await p;
    load();
  }

  renderAll = load;
  await load();
  return () => {
    if (drag) drag.done();
    seq++;
    renderAll = () => {};
  };
}

let renderAll = () => {};

const rotateDays = (mask, n) => {
  let out = 0;
  for (let i = 0; i < 7; i++) if (mask & (1 << i)) out |= 1 << (((i + n) % 7 + 7) % 7);
  return out;
};

// ------------------------------------------------------ the show panel

async function renderShowPanel(panel, showId) {
  let show = null;
  let playlists = [];
  try {
    const [s, pl] = await Promise.all([showId ? get("/shows/" + showId) : null,
      get("/playlists", { limit: 500, sort: "name" }).catch(() => ({ items: [] }))]);
    show = s;
    playlists = pl.items;
  } catch (e) {
    clear(panel, h("p", { class: "bad" }, errorText(e)));
    return;
  }
  const details = showForm(show, playlists, async (saved) => {
    const fresh = !show;
    show = saved;
    toast("Saved " + saved.name);
    if (fresh) {
      // The rules, hosts and exceptions need the show's id: show them now.
      await renderShowPanel(panel, saved.id);
      panel.querySelector(".cal-rules input, .cal-rules select")?.focus();
    }
  });
  clear(panel,
    h("section", {}, h("h3", {}, "Details"), details),
    show ? h("section", { class: "cal-rules" }, h("h3", {}, "When it is on"),
      await rulesSection(show)) : h("p", { class: "muted" },
      "Save the show first; then add when it is on and its hosts."),
    show ? h("section", {}, h("h3", {}, "Hosts"), await hostsSection(show)) : null,
    show ? h("section", {}, h("h3", {}, "Delete"), h("button", { type: "button",
      class: "danger", onclick: async (ev) => {
        if (!(await confirmAction("Delete the show " + show.name + " with all its rules and" +
          " instances?"))) return;
        try {
          await del("/shows/" + show.id);
          toast("Deleted " + show.name);
          ev.target.closest("dialog")?.close();
        } catch (e) {
          toast(errorText(e), "error");
        }
      } }, "Delete this show")) : null);
}

function showForm(show, playlists, onSaved) {
  const s = show || {};
  return form([
    { name: "name", label: "Name", value: s.name, required: true },
    { name: "description", label: "Description", type: "textarea", value: s.description },
    { name: "genre", label: "Genre", value: s.genre },
    { name: "url", label: "Web site", type: "url", value: s.url,
      placeholder: "https://" },
    { name: "color", label: "Colour", type: "color", value: validColor(s.color) || "#2f6fb5" },
    { name: "live_input", label: "Who may broadcast live", type: "select",
      options: LIVE_INPUTS, value: s.live_input || "hosts" },
    { name: "autoplaylist_id", label: "Auto playlist (fills what is left empty)",
      type: "select", value: s.autoplaylist_id ?? "",
      options: [["", "None"], ...playlists.map((p) => [p.id, p.name])] },
    { name: "autoplaylist_repeat", label: "Repeat the auto playlist until the show is full",
      type: "checkbox", value: s.autoplaylist_repeat },
    { name: "linked", label: "Linked: every instance plays the same items", type: "checkbox",
      value: s.linked },
  ], show ? "Save the details" : "Create the show", async (v) => {
    const bodyOf = { ...v, genre: v.genre.trim() || null, url: v.url.trim() || null,
      autoplaylist_id: v.autoplaylist_id ? Number(v.autoplaylist_id) : null };
    const saved = show ? await patch("/shows/" + show.id, bodyOf) : await post("/shows", bodyOf);
    await onSaved(saved);
  });
}

function describeRule(r) {
  const f = FREQUENCIES.find(([v]) => v === r.frequency);
  let s = f ? f[1] : r.frequency;
  if (r.repeat_every > 1) s += ", every " + r.repeat_every;
  if (r.frequency === "weekly") {
    s += " on " + WEEKDAYS.filter((_, i) => r.weekdays & (1 << i)).join(", ");
  }
  if (r.frequency === "monthly_by_weekday" && r.week_position) {
    s += r.week_position === -1 ? " (last)" : " (no. " + r.week_position + ")";
  }
  s += (r.frequency === "once" ? " on " : ", from ") + r.start_date + " at " +
    r.start_time.slice(0, 5) + " for " + Math.round(r.duration_us / 60e6) + " min (" +
    r.timezone + ")";
  if (r.end_date && r.frequency !== "once") s += ", until " + r.end_date;
  return s;
}

async function rulesSection(show) {
  const wrap = h("div", {});
  const reload = async () => {
    let rules;
    try {
      rules = (await get("/shows/" + show.id + "/recurrences")).items;
    } catch (e) {
      clear(wrap, h("p", { class: "bad" }, errorText(e)));
      return;
    }
    const adder = h("details", { class: "cal-sub" }, h("summary", {}, "Add a rule"));
    adder.append(ruleForm(show, null, reload));
    clear(wrap, rules.length ? h("ul", { class: "list-plain" }, rules.map((r) => {
      const edit = h("details", { class: "cal-sub" }, h("summary", {}, "Change this rule"),
        ruleForm(show, r, reload));
      const exc = h("details", { class: "cal-sub" }, h("summary", {}, "Exceptions"));
      exc.addEventListener("toggle", () => {
        if (exc.open && !exc.dataset.loaded) {
          exc.dataset.loaded = "1";
          exceptionsSection(r).then((n) => exc.append(n));
        }
      }, { once: false });
      return h("li", {}, h("p", {}, describeRule(r)), edit, exc,
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!(await confirmAction("Delete this rule and the instances it makes?"))) return;
          try {
            await del("/recurrences/" + r.id);
            announce("Rule deleted");
            reload();
          } catch (e) {
            toast(errorText(e), "error");
          }
        } }, "Delete this rule"));
    })) : h("p", { class: "muted" }, "No rule yet: the show is never on."), adder);
    if (!rules.length) adder.open = true;
    renderAll();
  };
  await reload();
  return wrap;
}

function ruleForm(show, rule, onSaved) {
  const r = rule || { frequency: "weekly", repeat_every: 1, weekdays: 0, week_position: null,
    start_date: ymd(today()), start_time: "20:00", duration_us: 3600e6,
    timezone: browserZone(), end_date: null };
  if (!rule) r.weekdays = 1 << ((new Date().getDay() + 6) % 7);
  const zones = timeZones(r.timezone);
  const dayBoxes = WEEKDAYS.map((d, i) => {
    const id = nextId("wd");
    return h("span", { class: "cal-wd" }, h("input", { type: "checkbox", id, value: i,
      checked: !!(r.weekdays & (1 << i)) }), h("label", { for: id }, d));
  });
  const days = h("fieldset", { class: "cal-days" }, h("legend", {}, "Weekdays (weekly rules)"),
    dayBoxes);
  const f = form([
    { name: "frequency", label: "How often", type: "select", options: FREQUENCIES,
      value: r.frequency },
    { name: "repeat_every", label: "Every (1 = every week or month)", type: "number", min: 1,
      max: 1000, value: r.repeat_every },
    { name: "week_position", label: "Which weekday of the month (monthly by weekday)",
      type: "select", value: r.week_position ?? "", options: [["", "—"], ["1", "First"],
        ["2", "Second"], ["3", "Third"], ["4", "Fourth"], ["5", "Fifth"], ["-1", "Last"]] },
    { name: "start_date", label: "First date", type: "date", value: r.start_date,
      required: true },
    { name: "start_time", label: "Start time", type: "time", value: r.start_time.slice(0, 5),
      required: true },
    { name: "duration_us", label: "Length in minutes", type: "number", min: 1,
      value: Math.round(r.duration_us / 60e6), required: true },
    zones ? { name: "timezone", label: "Time zone", type: "select", options: zones,
      value: r.timezone } : { name: "timezone", label: "Time zone", value: r.timezone },
    { name: "end_date", label: "Last date (empty: no end)", type: "date",
      value: r.end_date || "" },
  ], rule ? "Save the rule" : "Add the rule", async (v) => {
    const weekly = v.frequency === "weekly";
    const body = { frequency: v.frequency, repeat_every: v.frequency === "once" ? 1
      : v.repeat_every || 1,
    weekdays: weekly ? dayBoxes.reduce((m, b) => (b.querySelector("input").checked
      ? m | (1 << Number(b.querySelector("input").value)) : m), 0) : 0,
    week_position: v.frequency === "monthly_by_weekday" && v.week_position !== ""
      ? Number(v.week_position) : null,
    start_date: v.start_date, start_time: v.start_time, timezone: v.timezone,
    duration_us: Math.round((v.duration_us || 0) * 60e6), end_date: v.end_date || null };
    if (rule) await patch("/recurrences/" + rule.id, body);
    else await post("/shows/" + show.id + "/recurrences", body);
    toast(rule ? "Rule saved" : "Rule added");
    await onSaved();
  }, days);
  return f;
}

async function exceptionsSection(rule) {
  const wrap = h("div", {});
  const reload = async () => {
    let list;
    try {
      list = (await get("/recurrences/" + rule.id + "/exceptions")).items;
    } catch (e) {
      clear(wrap, h("p", { class: "bad" }, errorText(e)));
      return;
    }
    const kindLabel = { cancelled: "cancelled", moved: "moved", edited: "marked edited" };
    clear(wrap, list.length ? h("ul", { class: "list-plain" }, list.map((x) => h("li", {},
      x.instance_date + ": " + kindLabel[x.kind],
      x.kind === "moved" ? " to " + new Date(x.moved_starts_at).toLocaleString() + " – " +
        hm(Date.parse(x.moved_ends_at)) : "", " ",
      h("button", { type: "button", onclick: async () => {
        try {
          await del("/exceptions/" + x.id);
          announce("Exception removed");
          reload();
          renderAll();
        } catch (e) {
          toast(errorText(e), "error");
        }
      } }, "Undo", h("span", { class: "visually-hidden" }, " the exception of " +
        x.instance_date))))) : h("p", { class: "muted" }, "No exceptions."),
    exceptionForm(rule, async () => {
      await reload();
      renderAll();
    }));
  };
  await reload();
  return wrap;
}

function exceptionForm(rule, onSaved) {
  const f = form([
    { name: "instance_date", label: "Date of the instance (" + rule.timezone + ")",
      type: "date", required: true },
    { name: "kind", label: "What happens", type: "select", options: [["cancelled",
      "Cancelled"], ["moved", "Moved to another time"], ["edited", "Marked edited"]] },
    { name: "moved_starts_at", label: "Moved: new date", type: "date" },
    { name: "moved_time", label: "Moved: new start time", type: "time" },
    { name: "moved_ends_at", label: "Moved: length in minutes", type: "number", min: 1 },
  ], "Add the exception", async (v) => {
    const body = { instance_date: v.instance_date, kind: v.kind };
    if (v.kind === "moved") {
      if (!v.moved_starts_at || !v.moved_time || !(v.moved_ends_at > 0)) {
        throw new Error("A move needs the new date, start time and length.");
      }
      const a = zonedToUtc(v.moved_starts_at, v.moved_time, rule.timezone);
      body.moved_starts_at = iso(a);
      body.moved_ends_at = iso(a + v.moved_ends_at * 60000);
    }
    await post("/recurrences/" + rule.id + "/exceptions", body);
    toast("Exception added");
    await onSaved();
  });
  const moved = ["moved_starts_at", "moved_time", "moved_ends_at"]
    .map((n) => f.inputs[n].closest(".field"));
  const sync = () => moved.forEach((m) => (m.hidden = f.inputs.kind.value !== "moved"));
  f.inputs.kind.addEventListener("change", sync);
  sync();
  return f;
}

async function hostsSection(show) {
  let hosts;
  try {
    hosts = (await get("/shows/" + show.id + "/hosts")).hosts;
  } catch (e) {
    return h("p", { class: "bad" }, errorText(e));
  }
  const current = h("ul", { class: "list-plain", "aria-live": "polite" });
  const results = h("ul", { class: "list-plain" });
  const status = h("p", { class: "form-error", role: "alert" });
  const box = h("input", { type: "search", id: nextId("userq") });
  const name = (u) => u.display_name || u.name;
  const save = async (next) => {
    status.textContent = "";
    try {
      hosts = (await put("/shows/" + show.id + "/hosts",
        { user_ids: next.map((u) => u.id) })).hosts;
      announce("Hosts saved: " + (hosts.map(name).join(", ") || "none"));
      draw();
      find();
    } catch (e) {
      status.textContent = errorText(e);
    }
  };
  const draw = () => clear(current, hosts.length ? hosts.map((u) => h("li", { class: "cal-pick" },
    h("span", {}, name(u) + " (" + u.name + ")"), h("button", { type: "button",
      onclick: () => save(hosts.filter((x) => x.id !== u.id)) }, "Remove",
    h("span", { class: "visually-hidden" }, " " + name(u))))) : h("li", { class: "muted" },
    "No hosts yet."));
  let t;
  const find = async () => {
    try {
      const r = await get("/users", { q: box.value.trim(), limit: 10, sort: "display_name",
        disabled: false });
      const free = r.items.filter((u) => !hosts.some((x) => x.id === u.id));
      clear(results, free.length ? free.map((u) => h("li", { class: "cal-pick" },
        h("span", {}, name(u) + " (" + u.name + ", " + u.role.replace("_", " ") + ")"),
        h("button", { type: "button", onclick: () => save([...hosts, u]) }, "Add",
          h("span", { class: "visually-hidden" }, " " + name(u) + " as host")))) : h("li",
        { class: "muted" }, "No other users found."));
    } catch (e) {
      clear(results, h("li", { class: "bad" }, errorText(e)));
    }
  };
  box.addEventListener("input", () => {
    clearTimeout(t);
    t = setTimeout(find, 250);
  });
  draw();
  find();
  return h("div", {}, current, h("div", { class: "field" },
    h("label", { for: box.id }, "Find a user to add"), box), results, status);
}
