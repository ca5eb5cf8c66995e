// History: the as-run log for a time range (items and DJs' sessions),
// filtered, exported as CSV for royalty reports; listener statistics as
// charts (listeners over time, peak and average per show).
import { fmtDuration, fmtTime, get } from "../api.js";
import { clear, errorText, field, h } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  el.append(...kids);
  return el;
}

const isoDay = (d) => d.toISOString().slice(0, 10);

// Listeners over time: one line per output, as an SVG with a text summary.
function lineChart(samples) {
  const byOut = {};
  for (const s of samples) (byOut[s.output] = byOut[s.output] || []).push(s);
  const outs = Object.keys(byOut);
  if (!samples.length) return h("p", { class: "muted" }, "No listener samples in this range.");
  const t0 = Date.parse(samples[0].at);
  const t1 = Math.max(t0 + 1, Date.parse(samples[samples.length - 1].at));
  const max = Math.max(1, ...samples.map((s) => s.listeners));
  const W = 600;
  const H = 160;
  const g = svg("svg", { viewBox: `0 0 ${W} ${H + 20}`, class: "chart", role: "img",
    "aria-label": `Listeners over time, at most ${max}` });
  outs.forEach((o, i) => {
    const pts = byOut[o].map((s) => [(Date.parse(s.at) - t0) / (t1 - t0) * W,
      H - s.listeners / max * H]);
    g.append(svg("polyline", { points: pts.map((p) => p.join(",")).join(" "),
      class: "series s" + (i % 4) }));
  });
  g.append(svg("text", { x: 0, y: H + 16, class: "axis" }, String(max) + " max"));
  return h("figure", {}, g, h("figcaption", {}, outs.map((o, i) =>
    h("span", { class: "legend s" + (i % 4) }, "■ " + o + " "))));
}

// Peak and average per show instance: horizontal bars.
function showBars(rows) {
  if (!rows.length) return h("p", { class: "muted" }, "No shows with listener counts.");
  const max = Math.max(1, ...rows.map((r) => r.peak));
  return h("table", { class: "data" }, h("caption", {}, "Listeners per show"),
    h("thead", {}, h("tr", {}, ["Show", "Start", "Output", "Peak", "Average"].map((c) =>
      h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => {
      const bar = h("span", { class: "bar" });
      bar.style.width = (r.peak / max * 100).toFixed(1) + "%";
      return h("tr", {}, h("td", { "data-label": "Show" }, r.show_name),
        h("td", { "data-label": "Start" }, fmtTime(r.starts_at)),
        h("td", { "data-label": "Output" }, r.output),
        h("td", { "data-label": "Peak" }, h("span", { class: "barcell" }, bar, " " + r.peak)),
        h("td", { "data-label": "Average" }, r.average.toFixed(1)));
    })));
}

export default async function history(main) {
  const today = new Date();
  const from = field({ name: "from", label: "From", type: "date",
    value: isoDay(new Date(today - 6 * 86400000)) });
  const to = field({ name: "to", label: "To (inclusive)", type: "date", value: isoDay(today) });
  const kind = field({ name: "kind", label: "Entries", type: "select", value: "",
    options: [["", "Everything"], ["item", "Scheduled items"], ["live", "Live DJs"]] });
  const text = field({ name: "filter", label: "Title, artist or show contains",
    type: "search" });
  const csv = h("a", { class: "button", download: "as-run.csv" }, "Export CSV");
  const log = h("div", { "aria-live": "polite" });
  const charts = h("div", {});
  main.append(h("h1", {}, "History"),
    h("div", { class: "table-tools" }, from.wrap, to.wrap, kind.wrap, text.wrap, csv),
    h("h2", {}, "As-run log"), log, h("h2", {}, "Listeners"), charts);

  let rows = [];
  function range() {
    const a = new Date(from.input.value + "T00:00:00");
    const b = new Date(to.input.value + "T00:00:00");
    b.setDate(b.getDate() + 1);
    return { from: a.toISOString(), to: b.toISOString() };
  }
  function renderLog() {
    const needle = text.input.value.trim().toLowerCase();
    const shown = rows.filter((r) => (!kind.input.value || r.kind === kind.input.value) &&
      (!needle || [r.title, r.artist, r.show_name].some((x) => (x || "").toLowerCase()
        .includes(needle))));
    clear(log, h("p", { class: "table-status" }, shown.length + " entries"),
      h("div", { class: "scroll" }, h("table", { class: "data" },
        h("thead", {}, h("tr", {}, ["Started", "Ended", "Title", "Artist", "Show", "Source",
          "How it ended", "Length"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, shown.map((r) => h("tr", { class: r.kind === "live" ? "live-row" : "" },
          h("td", { "data-label": "Started" }, fmtTime(r.started_at, { month: "short",
            day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" })),
          h("td", { "data-label": "Ended" }, r.ended_at ? fmtTime(r.ended_at, {
            hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "on air"),
          h("td", { "data-label": "Title" }, r.kind === "live" ? "Live: " + r.title
            : r.title || ""),
          h("td", { "data-label": "Artist" }, r.artist || ""),
          h("td", { "data-label": "Show" }, r.show_name || ""),
          h("td", { "data-label": "Source" }, r.source.replace("_", " ")),
          h("td", { "data-label": "How it ended" }, r.end_reason || ""),
          h("td", { "data-label": "Length" }, r.ended_at ? fmtDuration((Date.parse(r.ended_at) -
            Date.parse(r.started_at)) * 1000) : "")))))));
  }
  async function load() {
    const q = range();
    csv.href = "/api/v1/as-run?" + new URLSearchParams({ ...q, format: "csv" });
    clear(log, h("p", { class: "loading" }, "Loading…"));
    try {
      rows = (await get("/as-run", { ...q, limit: 10000 })).items;
      renderLog();
    } catch (e) {
      clear(log, h("p", { class: "bad" }, errorText(e)));
    }
    try {
      const days = (Date.parse(q.to) - Date.parse(q.from)) / 86400000;
      const samples = days <= 31 ? (await get("/listeners", q)).items : [];
      const shows = (await get("/listeners/shows", q)).items;
      clear(charts, days <= 31 ? lineChart(samples)
        : h("p", { class: "muted" }, "Pick at most 31 days for the listener curve."),
      showBars(shows));
    } catch (e) {
      clear(charts, h("p", { class: "bad" }, errorText(e)));
    }
  }
  for (const i of [from.input, to.input]) i.addEventListener("change", load);
  kind.input.addEventListener("change", renderLog);
  text.input.addEventListener("input", renderLog);
  load();
}
