// Library: upload audio (drag and drop or a file picker) with each file's
// progress and then its analysis result; the server-paged list of files
// (search, filters, sort, columns) that stays fast with a large library;
// per file: metadata editor, preview player, waveform with the cue points,
// re-analysis, deletion. Program managers also manage the track types.
import { ApiError, del, fmtDuration, fmtTime, get, patch, post, upload } from "../api.js";
import {
  announce, clear, confirmAction, dataTable, dialog, errorText, form, h, pageHead, toast,
} from "../ui.js";

const STATUS_CLASS = { ready: "ok", failed: "bad", pending: "warn" };
const PARALLEL_UPLOADS = 3;

const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);
const fixed = (v, unit) => (v === null || v === undefined ? "" : v.toFixed(1) + "\u00a0" + unit);
const titleOf = (f) => f.title || "(untitled #" + f.id + ")";
const contentUrl = (id) => "/api/v1/files/" + id + "/content";

// A dialog() whose content can close it (dialog() itself only resolves).
function openDialog(title, content, buttons) {
  const closed = dialog(title, content, buttons);
  return { closed, close: () => content.closest("dialog")?.close() };
}

// A screen-reader suffix for row buttons ("Edit" + " Song title").
const srName = (text) => h("span", { class: "visually-hidden" }, " " + text);

function statusBadge(f) {
  return h("span", { class: "badge " + (STATUS_CLASS[f.import_status] || "") },
    f.import_status);
}

// ---- Track types -------------------------------------------------------

async function loadTypes() {
  try {
    return (await get("/track-types", { limit: 500, sort: "name" })).items;
  } catch (e) {
    return [];
  }
}

function trackTypeForm(tt, onDone) {
  return form([
    { name: "name", label: "Name", value: tt ? tt.name : "", required: true },
    { name: "code", label: "Code", value: tt ? tt.code : "", required: true,
      help: "a-z, 0-9, _ and -; used by smart block criteria", autocomplete: "off" },
    { name: "description", label: "Description", type: "textarea",
      value: tt ? tt.description : "" },
    { name: "silence_threshold_db", label: "Silence threshold (dB)", type: "number",
      step: "0.5", min: -120, max: 0, value: tt ? tt.silence_threshold_db : "",
      help: "Leading and trailing audio below this is treated as silence." },
    { name: "silence_min_us", label: "Minimum silence (seconds)", type: "number", step: "0.1",
      min: 0, max: 60, value: tt ? tt.silence_min_us / 1e6 : "" },
  ], tt ? "Save" : "Add track type", async (v) => {
    const body = { name: v.name, code: v.code, description: v.description };
    if (v.silence_threshold_db !== null) body.silence_threshold_db = v.silence_threshold_db;
    if (v.silence_min_us !== null) {
      if (v.silence_min_us < 0 || v.silence_min_us > 60) {
        throw new ApiError(422, { detail: "The minimum silence is out of range.",
          errors: [{ field: "silence_min_us", message: "must be from 0 to 60 seconds" }] });
      }
      body.silence_min_us = Math.round(v.silence_min_us * 1e6);
    }
    if (tt) await patch("/track-types/" + tt.id, body);
    else await post("/track-types", body);
    onDone();
  });
}

// The track type manager: a list with edit and delete, and "Add".
async function trackTypesDialog(onChange) {
  const list = h("ul", { class: "list-plain tt-list" });
  const render = async () => {
    const types = await loadTypes();
    clear(list, types.length ? types.map((tt) => h("li", { class: "tt-row" },
      h("span", {}, h("strong", {}, tt.name), " ", h("code", {}, tt.code),
        tt.description ? h("span", { class: "muted" }, " — " + tt.description) : null),
      h("span", { class: "actions" },
        h("button", { type: "button", onclick: () => edit(tt) }, "Edit", srName(tt.name)),
        h("button", { type: "button", class: "danger", onclick: () => remove(tt) }, "Delete",
          srName(tt.name)))))
      : h("li", { class: "muted" }, "No track types yet."));
  };
  const changed = async () => {
    await render();
    onChange();
  };
  const edit = (tt) => {
    let d;
    const f = trackTypeForm(tt, () => {
      toast(tt ? "Track type saved." : "Track type added.");
      d.close();
      changed();
    });
    d = openDialog(tt ? "Edit track type " + tt.name : "Add a track type", f);
  };
  const remove = async (tt) => {
    if (!(await confirmAction("Delete the track type " + tt.name + "?"))) return;
    try {
      await del("/track-types/" + tt.id);
      toast("Track type deleted.");
      changed();
    } catch (e) {
      toast(errorText(e), "error");
    }
  };
  await render();
  await dialog("Track types", h("div", {}, list,
    h("p", {}, h("button", { type: "button", class: "primary", onclick: () => edit(null) },
      "Add a track type"))));
}

// ---- Uploads -----------------------------------------------------------

// The drop zone, the picker and the list of uploads with their progress,
// then the analysis result (polled until the file is no longer pending).
function uploadPanel(onChange) {
  const timers = new Set();
  const queue = [];
  let active = 0;
  let stopped = false;
  const list = h("ul", { class: "list-plain uploads", "aria-label": "Uploads and analyses" });
  const picker = h("input", { type: "file", multiple: true, accept: "audio/*", hidden: true,
    onchange: () => {
      addFiles(picker.files);
      picker.value = "";
    } });
  const clearDone = h("button", { type: "button", hidden: true, onclick: () => {
    for (const li of [...list.children]) if (li.dataset.done) li.remove();
    clearDone.hidden = !list.querySelector("[data-done]");
  } }, "Clear finished");
  const zone = h("div", { class: "dropzone" },
    h("p", {}, "Drop audio files here, or ",
      h("button", { type: "button", class: "primary", onclick: () => picker.click() },
        "Choose files…")), picker);

  const hasFiles = (ev) => ev.dataTransfer && [...ev.dataTransfer.types].includes("Files");
  zone.addEventListener("dragover", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", (ev) => {
    if (!zone.contains(ev.relatedTarget)) zone.classList.remove("over");
  });
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    addFiles(ev.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser open it.
  const guard = (ev) => {
    if (hasFiles(ev) && !zone.contains(ev.target)) ev.preventDefault();
  };
  window.addEventListener("dragover", guard);
  window.addEventListener("drop", guard);

  function entry(name, withProgress) {
    const bar = h("span", {});
    bar.style.width = "0%";
    const prog = withProgress ? h("div", { class: "progress", role: "progressbar",
      "aria-label": "Upload of " + name, "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": "0" }, bar) : null;
    const state = h("span", { class: "muted" }, "Waiting…");
    const li = h("li", {}, h("div", { class: "upload-line" }, h("strong", {}, name), state),
      prog);
    list.prepend(li);
    return { name, bar, prog, state, li };
  }
  function say(job, text, cls, final) {
    job.state.className = cls || "muted";
    job.state.textContent = text;
    if (final) {
      if (job.prog) job.prog.hidden = true;
      job.li.dataset.done = "1";
      clearDone.hidden = false;
      announce(job.name + ": " + text);
    }
  }
  function progress(job, frac) {
    const pc = Math.round(frac * 100);
    job.bar.style.width = pc + "%";
    job.prog.setAttribute("aria-valuenow", String(pc));
    say(job, "Uploading… " + pc + " %");
  }
  function finish(job, f, prefix) {
    if (f.import_status === "ready") {
      say(job, prefix + "ready" + (f.duration_us ? " · " + fmtDuration(f.duration_us) : "") +
        (f.loudness_lufs !== null ? " · " + fixed(f.loudness_lufs, "LUFS") : ""),
      job.li.classList.contains("duplicate") ? "warn" : "ok", true);
    } else {
      say(job, prefix + "analysis failed: " + (f.failure_reason || "no reason given"),
        "bad", true);
    }
    onChange();
  }
  // Poll one file until its analysis ends; the wait grows to 5 s so that a
  // hundred uploads do not flood the server.
  function watch(job, f, prefix, wait = 1000) {
    if (stopped) return;
    if (f.import_status !== "pending") {
      finish(job, f, prefix);
      return;
    }
    say(job, prefix + "analysing…", "warn");
    const t = setTimeout(async () => {
      timers.delete(t);
      try {
        watch(job, await get("/files/" + f.id), prefix, Math.min(5000, wait * 1.5));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) say(job, "deleted", "muted", true);
        else watch(job, f, prefix, 5000);
      }
    }, wait);
    timers.add(t);
  }
  async function run(job) {
    say(job, "Uploading…");
    try {
      const r = await upload(job.file, (frac) => progress(job, frac));
      progress(job, 1);
      const prefix = r.duplicate ? "Duplicate: already in the library as “" + titleOf(r.file) +
        "” (#" + r.file.id + ") — " : "Uploaded — ";
      if (r.duplicate) job.li.classList.add("duplicate");
      onChange();
      watch(job, r.file, prefix);
    } catch (e) {
      say(job, "Upload failed: " + errorText(e), "bad", true);
    }
  }
  function pump() {
    while (!stopped && active < PARALLEL_UPLOADS && queue.length) {
      const job = queue.shift();
      active++;
      run(job).finally(() => {
        active--;
        pump();
      });
    }
  }
  function addFiles(files) {
    const n = files.length;
    for (const file of files) queue.push(Object.assign(entry(file.name, true), { file }));
    if (n) announce(n === 1 ? "1 file queued for upload" : n + " files queued for upload");
    pump();
  }

  return {
    zone,
    list: h("div", {}, list, h("div", { class: "actions" }, clearDone)),
    // Follow a file whose analysis was asked for again.
    track(f) {
      const job = entry(titleOf(f), false);
      watch(job, { ...f, import_status: "pending" }, "Re-analysis — ");
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      window.removeEventListener("dragover", guard);
      window.removeEventListener("drop", guard);
    },
  };
}

// ---- Metadata ----------------------------------------------------------

// RFC 3339 <-> the value of an <input type=datetime-local> (local time).
function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:` +
    p(d.getMinutes());
}

const TEXT_FIELDS = [["title", "Title"], ["artist", "Artist"], ["album", "Album"],
  ["composer", "Composer"], ["genre", "Genre"], ["label", "Label"], ["isrc", "ISRC"],
  ["language", "Language"]];
const NUMBER_FIELDS = [["year", "Year", 1], ["track_number", "Track number", 1],
  ["disc_number", "Disc number", 1], ["bpm", "BPM", "any"]];

function techInfo(f) {
  const rows = [
    ["Duration", fmtDuration(f.duration_us)], ["Format", [f.container, f.codec, f.mime]
      .filter(Boolean).join(" · ")],
    ["Bit rate", f.bitrate ? Math.round(f.bitrate / 1000) + " kbit/s" : ""],
    ["Sample rate", f.sample_rate ? f.sample_rate + " Hz" : ""], ["Channels", f.channels],
    ["Loudness", fixed(f.loudness_lufs, "LUFS")], ["True peak", fixed(f.true_peak_dbtp, "dBTP")],
    ["Loudness range", fixed(f.loudness_range, "LU")], ["ReplayGain", fixed(f.replaygain_db,
      "dB")], ["Size", (f.size / 1048576).toFixed(1) + " MiB"],
    ["Added", fmtTime(f.created_at)], ["Played", f.play_count + " times" +
      (f.last_played_at ? ", last " + fmtTime(f.last_played_at) : "")],
    ["Content hash", f.content_hash],
  ];
  return h("details", { class: "tech" }, h("summary", {}, "Technical details"),
    h("dl", {}, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, dash(v))])));
}

function editDialog(f, types, onSaved) {
  const specs = [
    ...TEXT_FIELDS.map(([name, label]) => ({ name, label, value: f[name] ?? "" })),
    ...NUMBER_FIELDS.map(([name, label, step]) => ({ name, label, type: "number", step,
      min: 0, value: f[name] ?? "" })),
    { name: "track_type_id", label: "Track type", type: "select", value: f.track_type_id ?? "",
      options: [["", "None"], ...types.map((t) => [t.id, t.name])] },
    { name: "published_at", label: "Published", type: "datetime-local",
      value: toLocalInput(f.published_at) },
    { name: "comment", label: "Comment", type: "textarea", value: f.comment ?? "" },
  ];
  let d;
  const el = form(specs, "Save", async (v) => {
    // Send only what changed; an emptied field becomes null.
    const body = {};
    for (const s of specs) {
      let val = v[s.name];
      if (s.name === "track_type_id") val = val === "" ? null : Number(val);
      else if (s.name === "published_at") val = val ? new Date(val).toISOString() : null;
      else if (val === "") val = null;
      const old = s.name === "published_at" ? (f.published_at ? new Date(f.published_at)
        .toISOString() : null) : f[s.name] ?? null;
      if (val !== old) body[s.name] = val;
    }
    if (Object.keys(body).length) {
      await patch("/files/" + f.id, body);
      toast("Saved “" + (body.title ?? titleOf(f)) + "”.");
      onSaved();
    }
    d.close();
  }, techInfo(f));
  d = openDialog("Edit " + titleOf(f), el);
}

// ---- Waveform and cue points ------------------------------------------

const FADE_MAX = 30e6; // the API's bound on a file's fades
const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name)
  .trim();

// Draw min/max buckets over the width, the cued-out parts shaded, the two
// cue handles (top), the fade ramps with their handles (bottom) and the
// play head. All times in microseconds.
function drawWave(canvas, wave, s) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const hgt = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  const g = canvas.getContext("2d");
  const fg = cssVar("--accent") || "#0b5cad";
  const mid = hgt / 2;
  g.clearRect(0, 0, w, hgt);
  g.fillStyle = fg;
  const n = wave.buckets || wave.min.length;
  // Scaled to the loudest peak so that quiet recordings still show a shape.
  let peak = 0.05;
  for (let i = 0; i < n; i++) peak = Math.max(peak, -wave.min[i], wave.max[i]);
  const scale = mid / peak;
  for (let x = 0; x < w; x++) {
    const a = Math.floor(x / w * n);
    const b = Math.max(a + 1, Math.floor((x + 1) / w * n));
    let lo = 0;
    let hi = 0;
    for (let i = a; i < b && i < n; i++) {
      lo = Math.min(lo, wave.min[i]);
      hi = Math.max(hi, wave.max[i]);
    }
    g.fillRect(x, mid - hi * scale, 1, Math.max(1, (hi - lo) * scale));
  }
  const X = (us) => us / s.duration * w;
  g.fillStyle = "rgba(128,128,128,0.55)";
  g.fillRect(0, 0, X(s.cueIn), hgt);
  g.fillRect(X(s.cueOut), 0, w - X(s.cueOut), hgt);
  const handle = (us, label, right) => {
    const x = Math.round(X(us));
    g.fillStyle = cssVar("--warn") || "#8a5a00";
    g.fillRect(x - dpr, 0, 2 * dpr, hgt);
    const tw = 22 * dpr;
    g.fillRect(right ? x - tw : x, 0, tw, 16 * dpr);
    g.fillStyle = cssVar("--card") || "#fff";
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.fillText(label, (right ? x - tw : x) + 3 * dpr, 12 * dpr);
  };
  handle(s.cueIn, "in", false);
  handle(s.cueOut, "out", true);
  // Fades: a ramp from silence at the cue point to full level.
  const fi = X(Math.min(s.cueOut, s.cueIn + (s.fadeIn || 0)));
  const fo = X(Math.max(s.cueIn, s.cueOut - (s.fadeOut || 0)));
  g.strokeStyle = cssVar("--ok") || "#1f7a3a";
  g.lineWidth = 2 * dpr;
  g.beginPath();
  g.moveTo(X(s.cueIn), hgt);
  g.lineTo(fi, 0);
  g.moveTo(fo, 0);
  g.lineTo(X(s.cueOut), hgt);
  g.stroke();
  const fadeHandle = (x, label, right) => {
    const tw = 40 * dpr;
    g.fillStyle = cssVar("--ok") || "#1f7a3a";
    g.fillRect(right ? x - tw : x, hgt - 16 * dpr, tw, 16 * dpr);
    g.fillStyle = cssVar("--card") || "#fff";
    g.fillText(label, (right ? x - tw : x) + 3 * dpr, hgt - 4 * dpr);
  };
  fadeHandle(fi, "fade in", false);
  fadeHandle(fo, "fade out", true);
  if (s.playhead !== null) {
    g.fillStyle = cssVar("--bad") || "#b3261e";
    g.fillRect(Math.round(X(s.playhead)), 0, dpr, hgt);
  }
}

async function waveformDialog(f, editable, onSaved) {
  let wave;
  try {
    wave = await get("/files/" + f.id + "/waveform");
  } catch (e) {
    await dialog("Waveform of " + titleOf(f), h("p", { class: "bad" },
      e instanceof ApiError && e.status === 404 ? "There is no waveform yet: the analysis " +
        "makes it." : errorText(e)));
    return;
  }
  const duration = f.duration_us || 1;
  const s = { duration, cueIn: f.cue_in_us ?? 0, cueOut: f.cue_out_us ?? duration,
    fadeIn: f.fade_in_us ?? null, fadeOut: f.fade_out_us ?? null, playhead: null };
  const canvas = h("canvas", { class: "wave", role: "img" });
  const audio = h("audio", { controls: true, preload: "none", src: contentUrl(f.id),
    "aria-label": "Preview of " + titleOf(f) });
  const secs = (us) => (us / 1e6).toFixed(2);
  const el = form([
    { name: "cue_in_us", label: "Cue in (seconds)", type: "number", step: "0.01", min: 0,
      max: secs(duration), value: secs(s.cueIn) },
    { name: "cue_out_us", label: "Cue out (seconds)", type: "number", step: "0.01", min: 0,
      max: secs(duration), value: secs(s.cueOut) },
    { name: "fade_in_us", label: "Fade in (seconds; empty: the station's default)",
      type: "number", step: "0.1", min: 0, max: 30,
      value: s.fadeIn === null ? "" : secs(s.fadeIn) },
    { name: "fade_out_us", label: "Fade out (seconds; empty: the station's default)",
      type: "number", step: "0.1", min: 0, max: 30,
      value: s.fadeOut === null ? "" : secs(s.fadeOut) },
  ], "Save cue points and fades", async (v) => {
    const us = (x) => (x === null ? null : Math.round(x * 1e6));
    const body = { cue_in_us: us(v.cue_in_us), cue_out_us: us(v.cue_out_us),
      fade_in_us: us(v.fade_in_us), fade_out_us: us(v.fade_out_us) };
    await patch("/files/" + f.id, body);
    toast("Cue points and fades saved.");
    announce("Cue points and fades saved");
    onSaved();
  });
  const inIn = el.inputs.cue_in_us;
  const inOut = el.inputs.cue_out_us;
  const inFi = el.inputs.fade_in_us;
  const inFo = el.inputs.fade_out_us;
  if (!editable) {
    for (const i of [inIn, inOut, inFi, inFo]) i.disabled = true;
    el.querySelector("button[type=submit]").remove();
  }
  const redraw = () => {
    canvas.setAttribute("aria-label", `Waveform of ${titleOf(f)}: cue in at ${secs(s.cueIn)} s,` +
      ` cue out at ${secs(s.cueOut)} s of ${secs(duration)} s, fade in ` +
      (s.fadeIn === null ? "default" : secs(s.fadeIn) + " s") + ", fade out " +
      (s.fadeOut === null ? "default" : secs(s.fadeOut) + " s"));
    drawWave(canvas, wave, s);
  };
  const clamp = (us, lo, hi) => Math.min(hi, Math.max(lo, Math.round(us)));
  // The number inputs and the handles show the same two values.
  const fromInputs = () => {
    if (inIn.value !== "") s.cueIn = clamp(inIn.value * 1e6, 0, duration);
    if (inOut.value !== "") s.cueOut = clamp(inOut.value * 1e6, 0, duration);
    s.fadeIn = inFi.value === "" ? null : clamp(inFi.value * 1e6, 0, FADE_MAX);
    s.fadeOut = inFo.value === "" ? null : clamp(inFo.value * 1e6, 0, FADE_MAX);
    redraw();
  };
  for (const i of [inIn, inOut, inFi, inFo]) i.addEventListener("input", fromInputs);

  // Dragging: a press near a handle moves it; elsewhere it seeks the preview.
  let dragging = null;
  const usAt = (ev) => {
    const r = canvas.getBoundingClientRect();
    return clamp((ev.clientX - r.left) / r.width * duration, 0, duration);
  };
  // The cue handles are in the upper half, the fade handles in the lower.
  const near = (ev) => {
    const r = canvas.getBoundingClientRect();
    const px = (us) => r.left + us / duration * r.width;
    if (ev.clientY > r.top + r.height / 2) {
      const dFi = Math.abs(ev.clientX - px(s.cueIn + (s.fadeIn || 0)));
      const dFo = Math.abs(ev.clientX - px(s.cueOut - (s.fadeOut || 0)));
      if (Math.min(dFi, dFo) <= 14) return dFi <= dFo ? "fade in" : "fade out";
    }
    const dIn = Math.abs(ev.clientX - px(s.cueIn));
    const dOut = Math.abs(ev.clientX - px(s.cueOut));
    if (Math.min(dIn, dOut) > 12) return null;
    return dIn < dOut || (dIn === dOut && ev.clientX < px(s.cueIn)) ? "in" : "out";
  };
  canvas.addEventListener("pointerdown", (ev) => {
    const which = editable ? near(ev) : null;
    if (!which) {
      audio.currentTime = usAt(ev) / 1e6;
      s.playhead = usAt(ev);
      redraw();
      return;
    }
    dragging = which;
    canvas.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!dragging) {
      canvas.style.cursor = editable && near(ev) ? "ew-resize" : "pointer";
      return;
    }
    const us = usAt(ev);
    if (dragging === "in") {
      s.cueIn = Math.min(us, s.cueOut);
      inIn.value = secs(s.cueIn);
    } else if (dragging === "out") {
      s.cueOut = Math.max(us, s.cueIn);
      inOut.value = secs(s.cueOut);
    } else if (dragging === "fade in") {
      s.fadeIn = clamp(us - s.cueIn, 0, Math.min(FADE_MAX, s.cueOut - s.cueIn));
      inFi.value = (s.fadeIn / 1e6).toFixed(1);
    } else {
      s.fadeOut = clamp(s.cueOut - us, 0, Math.min(FADE_MAX, s.cueOut - s.cueIn));
      inFo.value = (s.fadeOut / 1e6).toFixed(1);
    }
    redraw();
  });
  const endDrag = () => {
    if (dragging === "in" || dragging === "out") {
      announce("Cue " + dragging + " at " + secs(dragging === "in" ? s.cueIn : s.cueOut) +
        " seconds");
    } else if (dragging) {
      announce(dragging + " " + secs(dragging === "fade in" ? s.fadeIn : s.fadeOut) +
        " seconds");
    }
    dragging = null;
  };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);

  // Preview from cue in; stop at cue out; the play head follows.
  let raf = 0;
  const tick = () => {
    s.playhead = audio.currentTime * 1e6;
    if (s.playhead >= s.cueOut && !audio.paused) audio.pause();
    // The preview is heard with the file's fades (the station's default
    // fades are not known here).
    const up = s.fadeIn ? (s.playhead - s.cueIn) / s.fadeIn : 1;
    const down = s.fadeOut ? (s.cueOut - s.playhead) / s.fadeOut : 1;
    audio.volume = Math.max(0, Math.min(1, up, down));
    redraw();
    raf = audio.paused ? 0 : requestAnimationFrame(tick);
  };
  audio.addEventListener("play", () => {
    if (!raf) raf = requestAnimationFrame(tick);
  });
  const preview = () => {
    audio.currentTime = s.cueIn / 1e6;
    audio.play().catch((e) => toast(errorText(e), "error"));
  };
  const atPlayhead = (which) => {
    const us = clamp(audio.currentTime * 1e6, 0, duration);
    if (which === "in") {
      s.cueIn = Math.min(us, s.cueOut);
      inIn.value = secs(s.cueIn);
    } else {
      s.cueOut = Math.max(us, s.cueIn);
      inOut.value = secs(s.cueOut);
    }
    redraw();
  };
  const tools = h("div", { class: "actions" },
    h("button", { type: "button", class: "primary", onclick: preview }, "Preview from cue in"),
    h("button", { type: "button", onclick: () => audio.pause() }, "Stop"),
    editable ? h("button", { type: "button", onclick: () => atPlayhead("in") },
      "Cue in at play head") : null,
    editable ? h("button", { type: "button", onclick: () => atPlayhead("out") },
      "Cue out at play head") : null);
  const ro = new ResizeObserver(redraw);
  const closed = dialog("Waveform of " + titleOf(f), h("div", { class: "wave-box" }, canvas,
    h("p", { class: "help" }, editable ? "Drag the “in” and “out” handles (top) and the fade " +
      "handles (bottom), or type the times below. Click elsewhere on the waveform to move " +
      "the play head." : "Click the waveform " +
      "to move the play head."), audio, tools, el));
  ro.observe(canvas);
  redraw();
  await closed;
  ro.disconnect();
  cancelAnimationFrame(raf);
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
}

// ---- The screen --------------------------------------------------------

export default async function library(main, ctx) {
  const host = ctx.roleAtLeast("host");
  const pm = ctx.roleAtLeast("program_manager");
  const canEdit = (f) => pm || (host && f.uploaded_by === ctx.user.id);
  let types = await loadTypes();
  const typeName = (id) => (id === null ? "" : types.find((t) => t.id === id)?.name || "#" + id);
  const typeOptions = () => [["", "All"], ["null", "None"], ...types.map((t) => [t.id, t.name])];

  // One preview player for the whole list, kept at the bottom of the screen.
  const audio = h("audio", { controls: true, preload: "none", "aria-label": "Preview" });
  const nowPreviewing = h("span", {});
  const player = h("div", { class: "card lib-player", hidden: true },
    h("div", { class: "actions" }, h("strong", {}, "Preview: "), nowPreviewing,
      h("button", { type: "button", class: "link", onclick: () => {
        audio.pause();
        player.hidden = true;
      } }, "Close the player")), audio);
  const listen = (f) => {
    clear(nowPreviewing, titleOf(f) + (f.artist ? " — " + f.artist : ""));
    player.hidden = false;
    audio.src = contentUrl(f.id);
    audio.play().catch(() => {
      // Autoplay refused: the controls are there.
    });
    announce("Playing " + titleOf(f));
  };

  let reloadTimer = 0;
  let table;
  const reload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => table.reload(), 400);
  };
  const panel = host ? uploadPanel(reload) : null;

  const analyse = async (f) => {
    try {
      await post("/files/" + f.id + "/analyze");
      toast("Analysis of “" + titleOf(f) + "” queued.");
      panel.track(f);
      reload();
    } catch (e) {
      toast(errorText(e), "error");
    }
  };
  const remove = async (f) => {
    if (!(await confirmAction("Delete “" + titleOf(f) + "” from the library?"))) return;
    try {
      await del("/files/" + f.id);
      toast("Deleted “" + titleOf(f) + "”.");
      table.reload();
    } catch (e) {
      // 409: still scheduled or in a playlist; the message says where.
      await dialog("Cannot delete", h("p", { role: "alert" }, errorText(e)));
    }
  };

  const b = (label, f, onclick, cls) => h("button", { type: "button", class: cls || "",
    onclick }, label, srName(titleOf(f)));
  table = dataTable([
    { key: "title", label: "Title", sort: "title", render: (f) => f.title ||
      h("span", { class: "muted" }, titleOf(f)) },
    { key: "artist", label: "Artist", sort: "artist" },
    { key: "album", label: "Album", sort: "album" },
    { key: "duration_us", label: "Duration", sort: "duration_us",
      render: (f) => fmtDuration(f.duration_us) },
    { key: "track_type_id", label: "Track type", render: (f) => typeName(f.track_type_id) },
    { key: "loudness_lufs", label: "Loudness", sort: "loudness_lufs",
      render: (f) => fixed(f.loudness_lufs, "LUFS") },
    { key: "true_peak_dbtp", label: "True peak", render: (f) => fixed(f.true_peak_dbtp, "dBTP") },
    { key: "import_status", label: "Status", sort: "import_status", render: (f) =>
      h("span", {}, statusBadge(f), f.failure_reason ? h("small", { class: "bad reason" },
        " " + f.failure_reason) : null) },
    { key: "genre", label: "Genre", sort: "genre", hidden: true },
    { key: "year", label: "Year", sort: "year", hidden: true },
    { key: "play_count", label: "Plays", sort: "play_count", hidden: true },
    { key: "created_at", label: "Added", sort: "created_at", hidden: true,
      render: (f) => fmtTime(f.created_at) },
  ], {
    caption: "Files",
    sort: "-created_at",
    fetch: (q) => get("/files", q),
    filters: [
      { name: "track_type_id", label: "Track type", type: "select", options: typeOptions() },
      { name: "import_status", label: "Status", type: "select", options: [["", "All"],
        ["ready", "Ready"], ["pending", "Pending"], ["failed", "Failed"]] },
      host ? { name: "uploaded_by", label: "Uploaded by", type: "select",
        options: [["", "Anyone"], [ctx.user.id, "Me"]] } : null,
    ].filter(Boolean),
    rowActions: (f) => [
      b("Listen", f, () => listen(f)),
      b("Waveform", f, () => waveformDialog(f, canEdit(f), reload)),
      canEdit(f) ? b("Edit", f, () => editDialog(f, types, reload)) : null,
      pm ? b("Re-analyse", f, () => analyse(f)) : null,
      canEdit(f) ? b("Delete", f, () => remove(f), "danger") : null,
    ],
  });
  table.classList.add("lib-table");

  // After the track types change, the filter and the names follow.
  const typesChanged = async () => {
    types = await loadTypes();
    const sel = table.querySelector("select[name=track_type_id]");
    if (sel) {
      const cur = sel.value;
      clear(sel, typeOptions().map(([v, l]) => h("option", { value: v }, l)));
      sel.value = cur;
    }
    table.reload();
  };

  main.append(
    pageHead("Library", pm ? h("button", { type: "button",
      onclick: () => trackTypesDialog(typesChanged) }, "Track types") : null),
    panel ? h("section", { "aria-label": "Upload" }, panel.zone, panel.list) : null,
    table, player);

  return () => {
    clearTimeout(reloadTimer);
    if (panel) panel.stop();
    audio.pause();
    audio.removeAttribute("src");
  };
}
