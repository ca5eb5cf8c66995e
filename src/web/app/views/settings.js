// Station settings (admins change, program managers read): name, time
// zone, fades, loudness target, fallback playlist, and the playout
// settings (outputs, HLS, live inputs) as the JSON document playout takes.
import { get, patch } from "../api.js";
import { ApiError } from "../api.js";
import { form, h, toast } from "../ui.js";

const s2us = (v) => Math.round(Number(v) * 1e6);

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
    { name: "outputs", label: "Outputs, HLS and live inputs (JSON)", type: "textarea", rows: 12,
      value: JSON.stringify(cur.outputs, null, 2),
      help: "Icecast mounts (format, bitrate), HLS, the main and show live inputs." },
  ], "Save settings", async (v) => {
    let outputs;
    try {
      outputs = JSON.parse(v.outputs);
    } catch (e) {
      throw new ApiError(422, { detail: "The outputs are not valid JSON.",
        errors: [{ field: "outputs", message: e.message }] });
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
    toast("Settings saved; playout takes them with the next schedule.");
  });
  if (!admin) {
    for (const i of Object.values(f.inputs)) i.disabled = true;
    f.querySelector("button[type=submit]").hidden = true;
    main.append(h("p", { class: "muted" }, "Only an admin can change these."));
  }
  main.append(f);
}
