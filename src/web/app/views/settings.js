// Station settings (admins change, program managers read): name, time
// zone, fades, loudness target, fallback playlist, and the playout
// settings that travel with the schedule: Icecast outputs, HLS and the
// two live inputs (edited as fields; the JSON playout takes is shown for
// what the fields do not cover).
import { get, patch } from "../api.js";
import { ApiError } from "../api.js";
import { clear, field, form, h, toast } from "../ui.js";

const s2us = (v) => Math.round(Number(v) * 1e6);
const FORMATS = [["mp3", "MP3"], ["vorbis", "Ogg Vorbis"], ["opus", "Opus"], ["aac", "AAC"]];
const DEFAULTS = {
  outputs: [{ mount: "/live.mp3", format: "mp3", bitrate: 128 }],
  hls: { enabled: true, bitrate: 128, segment: 2, segments: 6 },
  live: { main: { enabled: true, mount: "main", fade: 1 },
    show: { enabled: true, mount: "show", fade: 1 } },
};

// The settings document with every member filled in from the defaults
// (a bare array is the outputs, as playout reads it).
function playoutDoc(raw) {
  const doc = Array.isArray(raw) ? { outputs: raw } : { ...(raw || {}) };
  if (!doc.outputs || !doc.outputs.length) doc.outputs = DEFAULTS.outputs;
  doc.hls = { ...DEFAULTS.hls, ...(doc.hls || {}) };
  doc.live = { main: { ...DEFAULTS.live.main, ...((doc.live || {}).main || {}) },
    show: { ...DEFAULTS.live.show, ...((doc.live || {}).show || {}) } };
  return doc;
}

// The outputs, HLS and live inputs as fields; read() gives the document.
function playoutEditor(doc, disabled) {
  const rows = h("div", {});
  const outputs = doc.outputs.map((o) => ({ ...o }));
  const drawOutputs = () => clear(rows, outputs.map((o, i) => {
    const n = "Output " + (i + 1) + " ";
    const mount = field({ name: "mount" + i, label: n + "mount", value: o.mount });
    const fmt = field({ name: "format" + i, label: n + "format", type: "select", value: o.format,
      options: FORMATS });
    const rate = field({ name: "bitrate" + i, label: n + "bitrate (kbit/s)", type: "number",
      value: o.bitrate, min: 32, max: 320 });
    mount.input.addEventListener("input", () => (o.mount = mount.input.value));
    fmt.input.addEventListener("change", () => (o.format = fmt.input.value));
    rate.input.addEventListener("input", () => (o.bitrate = Number(rate.input.value)));
    for (const f of [mount, fmt, rate]) f.input.disabled = disabled;
    return h("fieldset", { class: "output-row" }, h("legend", {}, "Icecast output " + (i + 1)),
      mount.wrap, fmt.wrap, rate.wrap,
      disabled || outputs.length === 1 ? null : h("button", { type: "button", class: "danger",
        onclick: () => {
          outputs.splice(i, 1);
          drawOutputs();
        } }, "Remove output " + (i + 1)));
  }));
  drawOutputs();
  const hls = {
    enabled: field({ name: "hls_enabled", label: "HLS stream", type: "checkbox",
      value: doc.hls.enabled }),
    bitrate: field({ name: "hls_bitrate", label: "HLS bitrate (kbit/s)", type: "number",
      value: doc.hls.bitrate, min: 32, max: 320 }),
    segment: field({ name: "hls_segment", label: "Segment length (seconds)", type: "number",
      value: doc.hls.segment, min: 1, max: 30 }),
    segments: field({ name: "hls_segments", label: "Segments in the playlist", type: "number",
      value: doc.hls.segments, min: 2, max: 100 }),
  };
  const live = {};
  for (const k of ["main", "show"]) {
    const name = k === "main" ? "Main input" : "Show input";
    live[k] = {
      enabled: field({ name: k + "_enabled", label: name + " on", type: "checkbox",
        value: doc.live[k].enabled }),
      mount: field({ name: k + "_mount", label: name + " mount", value: doc.live[k].mount }),
      fade: field({ name: k + "_fade", label: name + " fade (seconds)", type: "number",
        step: "0.1", value: doc.live[k].fade, min: 0, max: 30 }),
    };
  }
  const all = [...Object.values(hls), ...Object.values(live.main), ...Object.values(live.show)];
  for (const f of all) f.input.disabled = disabled;
  const el = h("div", {},
    h("h2", {}, "Streams"), rows,
    disabled ? null : h("button", { type: "button", onclick: () => {
      outputs.push({ mount: "/live-" + (outputs.length + 1) + ".mp3", format: "mp3",
        bitrate: 128 });
      drawOutputs();
    } }, "Add an Icecast output"),
    h("fieldset", {}, h("legend", {}, "HLS"), Object.values(hls).map((f) => f.wrap)),
    h("h2", {}, "Live inputs"),
    h("fieldset", {}, h("legend", {}, "Main input (overrides everything)"),
      Object.values(live.main).map((f) => f.wrap)),
    h("fieldset", {}, h("legend", {}, "Show input (overrides the schedule during a show)"),
      Object.values(live.show).map((f) => f.wrap)));
  el.read = () => ({
    ...doc,
    outputs: outputs.map((o) => ({ ...o })),
    hls: { ...doc.hls, enabled: hls.enabled.input.checked,
      bitrate: Number(hls.bitrate.input.value), segment: Number(hls.segment.input.value),
      segments: Number(hls.segments.input.value) },
    live: Object.fromEntries(["main", "show"].map((k) => [k, { ...doc.live[k],
      enabled: live[k].enabled.input.checked, mount: live[k].mount.input.value,
      fade: Number(live[k].fade.input.value) }])),
  });
  return el;
}

export default async function settings(main, ctx) {
  main.append(h("h1", {}, "Settings"));
  let cur = await get("/settings");
  let playlists = [];
  try {
    playlists = (await get("/playlists", { limit: 200, sort: "name" })).items;
  } catch (e) {
    playlists = [];
  }
  const admin = ctx.roleAtLeast("admin");
  const editor = playoutEditor(playoutDoc(cur.outputs), !admin);
  const f = form([
    { name: "name", label: "Station name", value: cur.name, required: true },
    { name: "description", label: "Description", type: "textarea", value: cur.description },
    { name: "timezone", label: "Time zone (e.g. Europe/Berlin)", value: cur.timezone },
    { name: "default_fade_in_us", label: "Default fade in (seconds)", type: "number",
      step: "0.1", min: 0, max: 30, value: cur.default_fade_in_us / 1e6 },
    { name: "default_fade_out_us", label: "Default fade out (seconds)", type: "number",
      step: "0.1", min: 0, max: 30, value: cur.default_fade_out_us / 1e6 },
    { name: "default_crossfade_us", label: "Default crossfade (seconds)", type: "number",
      step: "0.1", min: 0, max: 30, value: cur.default_crossfade_us / 1e6 },
    { name: "loudness_target_lufs", label: "Loudness target (LUFS)", type: "number",
      step: "0.5", value: cur.loudness_target_lufs },
    { name: "fallback_playlist_id", label: "Fallback playlist (plays when nothing is scheduled)",
      type: "select", value: cur.fallback_playlist_id ?? "",
      options: [["", "None"], ...playlists.map((p) => [p.id, p.name])] },
  ], "Save settings", async (v) => {
    const outputs = editor.read();
    if (outputs.outputs.some((o) => !o.mount)) {
      throw new ApiError(422, { detail: "Every output needs a mount.", errors: [] });
    }
    cur = await patch("/settings", {
      version: cur.version, name: v.name, description: v.description, timezone: v.timezone,
      default_fade_in_us: s2us(v.default_fade_in_us),
      default_fade_out_us: s2us(v.default_fade_out_us),
      default_crossfade_us: s2us(v.default_crossfade_us),
      loudness_target_lufs: Number(v.loudness_target_lufs),
      fallback_playlist_id: v.fallback_playlist_id ? Number(v.fallback_playlist_id) : null,
      outputs,
    });
    clear(json, JSON.stringify(cur.outputs, null, 2));
    toast("Settings saved; playout takes them with the next schedule.");
  }, editor);
  const json = h("pre", { class: "json" }, JSON.stringify(cur.outputs, null, 2));
  if (!admin) {
    for (const i of Object.values(f.inputs)) i.disabled = true;
    f.querySelector("button[type=submit]").hidden = true;
    main.append(h("p", { class: "muted" }, "Only an admin can change these."));
  }
  main.append(f, h("details", {}, h("summary", {}, "The playout settings as stored (JSON)"),
    json));
}
