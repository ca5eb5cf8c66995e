// Dashboard: what is on air now and next (the schedule's view, with
// progress), what each playout instance says it plays (source, DJs,
// outputs, health) pushed live over server-sent events, the listeners,
// a preview player, and the operator's commands for those allowed.
import { fmtTime, get, post } from "../api.js";
import { announce, clear, errorText, h } from "../ui.js";

const SOURCES = {
  schedule: "Schedule", show_live: "Show DJ", main_live: "Main DJ",
  fallback: "Fallback", safety: "Safety loop", none: "Nothing",
};

function itemLine(it) {
  if (!it) return h("span", { class: "muted" }, "Nothing scheduled");
  const title = it.title || (it.kind === "live" ? "Live slot" : it.kind === "silence"
    ? "Silence" : "Untitled");
  return h("span", {}, h("strong", {}, title), it.artist ? " — " + it.artist : "");
}

function progress(it, now) {
  if (!it || !it.starts_at || !it.ends_at) return null;
  const a = Date.parse(it.starts_at);
  const b = Date.parse(it.ends_at);
  const frac = Math.min(1, Math.max(0, (now - a) / Math.max(1, b - a)));
  const bar = h("span", {});
  bar.style.width = (frac * 100).toFixed(1) + "%";
  const left = Math.max(0, Math.round((b - now) / 1000));
  return h("div", {},
    h("div", { class: "progress", role: "progressbar", "aria-label": "Progress of the item",
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": Math.round(frac * 100) },
    bar),
    h("small", { class: "muted" }, fmtTime(it.starts_at, { hour: "2-digit", minute: "2-digit",
      second: "2-digit" }) + " – " + fmtTime(it.ends_at, { hour: "2-digit", minute: "2-digit",
      second: "2-digit" }) + " · " + Math.floor(left / 60) + ":" +
      String(left % 60).padStart(2, "0") + " left"));
}

function instanceCard(inst) {
  const live = inst.live || {};
  return h("section", { class: "card", "aria-label": "Playout " + inst.instance },
    h("h3", {}, inst.instance, " ",
      h("span", { class: "badge " + (inst.healthy ? "ok" : "bad") },
        inst.healthy ? "healthy" : "not heard from")),
    h("p", {}, "Source: ", h("strong", { class: "source" }, SOURCES[inst.source] ||
      inst.source || "unknown")),
    h("p", {}, "Playing: ", inst.on_air ? itemLine(inst.on_air) : h("span", { class: "muted" },
      "—")),
    live.show || live.main ? h("p", {}, "DJ: ", [live.main && "main input: " + live.main,
      live.show && "show input: " + live.show].filter(Boolean).join(", ")) : null,
    h("ul", { class: "list-plain", "aria-label": "Outputs" }, (inst.outputs || []).map((o) =>
      h("li", {}, h("span", { class: o.up ? "ok" : "bad" }, o.up ? "● up " : "● down "),
        o.output, o.message ? h("span", { class: "muted" }, " — " + o.message) : null))),
    inst.hls_listeners !== null && inst.hls_listeners !== undefined
      ? h("p", { class: "muted" }, "HLS listeners: " + inst.hls_listeners) : null,
    inst.last_error ? h("p", { class: "bad" }, "Last error: " + inst.last_error.message +
      " (" + fmtTime(inst.last_error.at) + ")") : null);
}

// Buttons for the commands the user may send (the API checks again).
function controls(ctx, out) {
  const pm = ctx.roleAtLeast("program_manager");
  const host = ctx.roleAtLeast("host");
  if (!host) return null;
  const send = async (body, label) => {
    clear(out, h("span", { class: "muted" }, label + "…"));
    try {
      const r = await post("/playout/commands", body);
      const lines = r.replies.map((x) => x.instance + ": " + (x.ok ? "done" : "failed — " +
        x.error));
      clear(out, h("span", { class: r.ok ? "ok" : "bad" }, label + ": " + lines.join("; ")));
      announce(label + (r.ok ? " done" : " failed"));
    } catch (e) {
      clear(out, h("span", { class: "bad" }, label + ": " + errorText(e)));
      announce(label + " failed");
    }
  };
  const b = (label, body, danger) => h("button", { type: "button", class: danger ? "danger"
    : "", onclick: () => send(body, label) }, label);
  return h("div", { class: "card" }, h("h2", {}, "Controls"),
    h("div", { class: "actions" },
      b("Skip the current item", { command: "skip" }),
      b("Show input on", { command: "source", source: "show_live", enabled: true }),
      b("Show input off", { command: "source", source: "show_live", enabled: false }),
      b("Disconnect show DJ", { command: "disconnect_live", input: "show" }, true),
      pm ? b("Main input on", { command: "source", source: "main_live", enabled: true }) : null,
      pm ? b("Main input off", { command: "source", source: "main_live", enabled: false })
        : null,
      pm ? b("Disconnect main DJ", { command: "disconnect_live", input: "main" }, true) : null,
      pm ? b("Schedule on", { command: "source", source: "schedule", enabled: true }) : null,
      pm ? b("Schedule off", { command: "source", source: "schedule", enabled: false }) : null),
    !pm ? h("p", { class: "muted" }, "Hosts may use these while their own show is on air.")
      : null,
    out);
}

export default async function dashboard(main, ctx) {
  const nowBox = h("div", { class: "card", "aria-live": "polite" });
  const instBox = h("div", { class: "grid" });
  const listenersBox = h("p", {});
  const liveState = h("p", { class: "muted" });
  const cmdOut = h("p", { "aria-live": "polite" });
  const player = h("div", { class: "card" });
  main.append(h("h1", {}, "Dashboard"), nowBox, controls(ctx, cmdOut),
    h("h2", {}, "Playout"), liveState, instBox,
    h("h2", {}, "Listeners"), listenersBox, player);

  let status = null;
  let lastOnAir = "";
  function renderNow() {
    if (!status) return;
    const now = Date.now();
    clear(nowBox,
      h("h2", {}, "On air now"), itemLine(status.planned_now),
      status.planned_now ? h("p", { class: "muted" }, status.planned_now.show_name) : null,
      progress(status.planned_now, now),
      h("h2", {}, "Next"), itemLine(status.planned_next),
      status.planned_next ? h("p", { class: "muted" }, status.planned_next.show_name + " · " +
        fmtTime(status.planned_next.starts_at)) : null);
  }
  function renderInstances(doc) {
    const list = doc.instances || [];
    clear(instBox, list.length ? list.map(instanceCard)
      : h("p", { class: "muted" }, "No playout instance has reported yet."));
    const onAir = list.map((i) => (i.on_air ? i.on_air.item_id : "")).join(",");
    if (onAir !== lastOnAir) {
      lastOnAir = onAir;
      refresh();
    }
  }
  async function refresh() {
    try {
      status = await get("/status");
      renderNow();
      renderInstances(status);
    } catch (e) {
      clear(nowBox, h("p", { class: "bad" }, errorText(e)));
    }
  }
  async function listeners() {
    const to = new Date();
    const from = new Date(to - 10 * 60 * 1000);
    try {
      const r = await get("/listeners", { from: from.toISOString(), to: to.toISOString() });
      const latest = {};
      for (const s of r.items) latest[s.output] = s.listeners;
      const outs = Object.entries(latest);
      const total = outs.reduce((a, [, n]) => a + n, 0);
      clear(listenersBox, outs.length ? h("span", {}, h("strong", { class: "listeners" },
        String(total)), " now (" + outs.map(([o, n]) => o + ": " + n).join(", ") + ")")
        : h("span", { class: "muted" }, "No listener counts in the last 10 minutes."));
    } catch (e) {
      clear(listenersBox, h("span", { class: "bad" }, errorText(e)));
    }
  }
  async function preview() {
    try {
      const np = await get("/public/now-playing");
      const url = np.streams && np.streams.icecast;
      clear(player, h("h2", {}, "Preview"), url
        ? h("audio", { controls: true, preload: "none", src: url, "aria-label": "Station stream" })
        : h("p", { class: "muted" }, "No public stream address is set (public.stream_url)."));
    } catch (e) {
      clear(player);
    }
  }

  await refresh();
  listeners();
  preview();
  const es = new EventSource("/api/v1/status/stream");
  es.addEventListener("status", (ev) => {
    liveState.textContent = "Live: updates as playout reports.";
    try {
      renderInstances(JSON.parse(ev.data));
    } catch (e) {
      // A malformed event is skipped; the next one replaces it.
    }
  });
  es.onerror = () => {
    liveState.textContent = "Reconnecting to the live status…";
  };
  const tick = setInterval(renderNow, 1000);
  const slow = setInterval(() => {
    refresh();
    listeners();
  }, 30000);
  return () => {
    es.close();
    clearInterval(tick);
    clearInterval(slow);
  };
}
