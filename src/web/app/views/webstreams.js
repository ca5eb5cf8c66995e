// Webstreams: remote streams that can be scheduled like files. List
// (server-paged), add, edit, delete (hosts their own, program managers
// all), and listen to the stream in the browser.
import { ApiError, del, fmtDuration, fmtTime, get, patch, post } from "../api.js";
import {
  announce, clear, confirmAction, dataTable, dialog, errorText, form, h, pageHead, toast,
} from "../ui.js";

// "1:30:00", "45:00" or "90" (minutes) -> microseconds; null when unreadable.
function parseDuration(text) {
  const t = String(text || "").trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 60e6);
  if (!/^\d+(:\d{1,2}){1,2}$/.test(t)) return null;
  const secs = t.split(":").reduce((acc, p) => acc * 60 + Number(p), 0);
  return secs * 1e6;
}

function webstreamForm(ws, onDone) {
  return form([
    { name: "name", label: "Name", value: ws ? ws.name : "", required: true },
    { name: "url", label: "Stream URL", type: "url", value: ws ? ws.url : "", required: true,
      placeholder: "https://stream.example.org/live.mp3", autocomplete: "off" },
    { name: "duration_us", label: "Duration", value: ws ? fmtDuration(ws.duration_us) : "1:00:00",
      required: true, help: "How long it plays when scheduled: h:mm:ss, m:ss, or minutes." },
    { name: "description", label: "Description", type: "textarea",
      value: ws ? ws.description : "" },
  ], ws ? "Save" : "Add webstream", async (v) => {
    const duration = parseDuration(v.duration_us);
    if (duration === null) {
      throw new ApiError(422, { detail: "The duration is not readable.",
        errors: [{ field: "duration_us", message: "write it as h:mm:ss, m:ss or minutes" }] });
    }
    const body = { name: v.name, url: v.url.trim(), duration_us: duration,
      description: v.description };
    if (ws) await patch("/webstreams/" + ws.id, body);
    else await post("/webstreams", body);
    onDone();
  });
}

export default async function webstreams(main, ctx) {
  const host = ctx.roleAtLeast("host");
  const pm = ctx.roleAtLeast("program_manager");
  const canEdit = (ws) => pm || (host && ws.created_by === ctx.user.id);
  let table;

  // One player: the browser plays the remote stream itself.
  const audio = h("audio", { controls: true, preload: "none", "aria-label": "Stream player" });
  const playing = h("span", {});
  const problem = h("p", { class: "bad", role: "alert" });
  const player = h("div", { class: "card stream-player", hidden: true },
    h("div", { class: "actions" }, h("strong", {}, "Listening: "), playing,
      h("button", { type: "button", class: "link", onclick: () => {
        audio.pause();
        audio.removeAttribute("src");
        audio.load();
        player.hidden = true;
      } }, "Stop and close")), audio, problem);
  audio.addEventListener("error", () => {
    if (audio.getAttribute("src")) problem.textContent = "The stream cannot be played " +
      "(unreachable, or a format this browser does not play).";
  });
  const listen = (ws) => {
    problem.textContent = "";
    clear(playing, ws.name);
    player.hidden = false;
    audio.src = ws.url;
    audio.play().catch(() => {
      // Autoplay refused or the stream failed: the error event says which.
    });
    announce("Playing the webstream " + ws.name);
  };

  const edit = (ws) => {
    const f = webstreamForm(ws, () => {
      toast(ws ? "Webstream saved." : "Webstream added.");
      f.closest("dialog")?.close();
      table.reload();
    });
    dialog(ws ? "Edit " + ws.name : "Add a webstream", f);
  };
  const remove = async (ws) => {
    if (!(await confirmAction("Delete the webstream " + ws.name + "?"))) return;
    try {
      await del("/webstreams/" + ws.id);
      toast("Webstream deleted.");
      table.reload();
    } catch (e) {
      // 409 while it is scheduled or in a playlist.
      await dialog("Cannot delete", h("p", { role: "alert" }, errorText(e)));
    }
  };

  const sr = (ws) => h("span", { class: "visually-hidden" }, " " + ws.name);
  table = dataTable([
    { key: "name", label: "Name", sort: "name" },
    { key: "url", label: "URL", render: (ws) => h("span", { class: "url-cell" }, ws.url) },
    { key: "duration_us", label: "Duration", sort: "duration_us",
      render: (ws) => fmtDuration(ws.duration_us) },
    { key: "description", label: "Description" },
    { key: "created_at", label: "Added", sort: "created_at", hidden: true,
      render: (ws) => fmtTime(ws.created_at) },
    { key: "updated_at", label: "Changed", sort: "updated_at", hidden: true,
      render: (ws) => fmtTime(ws.updated_at) },
  ], {
    caption: "Webstreams",
    sort: "name",
    fetch: (q) => get("/webstreams", q),
    filters: host ? [{ name: "created_by", label: "Added by", type: "select",
      options: [["", "Anyone"], [ctx.user.id, "Me"]] }] : [],
    rowActions: (ws) => [
      h("button", { type: "button", onclick: () => listen(ws) }, "Listen", sr(ws)),
      canEdit(ws) ? h("button", { type: "button", onclick: () => edit(ws) }, "Edit", sr(ws))
        : null,
      canEdit(ws) ? h("button", { type: "button", class: "danger", onclick: () => remove(ws) },
        "Delete", sr(ws)) : null,
    ],
  });

  table.classList.add("lib-table");
  main.append(pageHead("Webstreams", host ? h("button", { type: "button", class: "primary",
    onclick: () => edit(null) }, "Add webstream") : null), table, player);
  return () => {
    audio.pause();
    audio.removeAttribute("src");
  };
}
