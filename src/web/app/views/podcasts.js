// Podcasts: the feeds the station follows. List (server-paged), subscribe
// and change the options, poll now, delete (program managers and
// admins); each podcast's episodes with their import status, and "import"
// to bring one into the library.
import { ApiError, del, fmtTime, get, patch, post } from "../api.js";
import {
  announce, clear, confirmAction, dataTable, dialog, errorText, form, h, pageHead, toast,
} from "../ui.js";

const EP_CLASS = { imported: "ok", failed: "bad", pending: "warn", new: "", skipped: "muted" };
const HOUR_US = 3600e6;
const nameOf = (p) => p.title || p.url;

function podcastForm(p, types, onDone) {
  return form([
    { name: "url", label: "Feed URL", type: "url", value: p ? p.url : "", required: true,
      placeholder: "https://example.org/feed.xml", autocomplete: "off" },
    { name: "auto_ingest", label: "Import each new episode automatically", type: "checkbox",
      value: p ? p.auto_ingest : false },
    { name: "tag_override", label: "Title imported files after the episode and the podcast",
      type: "checkbox", value: p ? p.tag_override : true },
    { name: "poll_interval_us", label: "Check the feed every (hours)", type: "number",
      step: "any", min: 0.09, max: 168, value: p ? p.poll_interval_us / HOUR_US : 1,
      help: "From 5 minutes (0.09) to 7 days (168)." },
    { name: "track_type_id", label: "Track type of imported files", type: "select",
      value: p ? p.track_type_id ?? "" : "",
      options: [["", "None"], ...types.map((t) => [t.id, t.name])] },
  ], p ? "Save" : "Subscribe", async (v) => {
    const body = { url: v.url.trim(), auto_ingest: v.auto_ingest, tag_override: v.tag_override,
      track_type_id: v.track_type_id === "" ? null : Number(v.track_type_id) };
    if (v.poll_interval_us !== null) {
      body.poll_interval_us = Math.round(v.poll_interval_us * HOUR_US);
      // The API counts in microseconds; say the limits in the field's unit.
      if (body.poll_interval_us < 300e6 || body.poll_interval_us > 168 * HOUR_US) {
        throw new ApiError(422, { detail: "The interval is out of range.", errors: [
          { field: "poll_interval_us", message: "must be from 0.09 (5 minutes) to 168 hours" }] });
      }
    }
    if (p) await patch("/podcasts/" + p.id, body);
    else await post("/podcasts", body);
    onDone();
  });
}

// One podcast's episodes; refreshes itself while an import is under way.
function episodesPanel(p, pm, onClose) {
  let timer = 0;
  let table;
  const importEp = async (ep) => {
    try {
      await post(`/podcasts/${p.id}/episodes/${ep.id}/ingest`);
      toast("Import of “" + ep.title + "” queued.");
      table.reload();
    } catch (e) {
      toast(errorText(e), "error");
    }
  };
  table = dataTable([
    { key: "title", label: "Episode" },
    { key: "published_at", label: "Published", render: (ep) => fmtTime(ep.published_at) },
    { key: "import_status", label: "Status", render: (ep) => h("span", {},
      h("span", { class: "badge " + (EP_CLASS[ep.import_status] || "") }, ep.import_status),
      ep.failure_reason ? h("small", { class: "bad reason" }, " " + ep.failure_reason) : null) },
    { key: "file_id", label: "File", render: (ep) => (ep.file_id ? "#" + ep.file_id : "") },
    { key: "enclosure_size", label: "Size", hidden: true, render: (ep) =>
      (ep.enclosure_size ? (ep.enclosure_size / 1048576).toFixed(1) + " MiB" : "") },
    { key: "description", label: "Description", hidden: true },
  ], {
    caption: "Episodes",
    search: false,
    fetch: async (q) => {
      const list = await get(`/podcasts/${p.id}/episodes`, q);
      clearTimeout(timer);
      if (list.items.some((ep) => ep.import_status === "pending")) {
        timer = setTimeout(() => table.reload(), 3000);
      }
      return list;
    },
    rowActions: pm ? (ep) => (["new", "failed", "skipped"].includes(ep.import_status)
      ? h("button", { type: "button", onclick: () => importEp(ep) }, "Import",
        h("span", { class: "visually-hidden" }, " " + ep.title))
      : null) : null,
  });
  table.classList.add("lib-table");
  const heading = h("h2", { tabindex: "-1" }, "Episodes of " + nameOf(p));
  const el = h("section", { class: "ep-panel card", "aria-label": "Episodes" },
    h("div", { class: "page-head" }, heading,
      h("button", { type: "button", onclick: onClose }, "Close the episodes")),
    p.last_error ? h("p", { class: "bad" }, "Last check failed: " + p.last_error) : null,
    table);
  el.focusHeading = () => heading.focus();
  el.stop = () => clearTimeout(timer);
  return el;
}

export default async function podcasts(main, ctx) {
  const pm = ctx.roleAtLeast("program_manager");
  let types = [];
  try {
    types = (await get("/track-types", { limit: 500, sort: "name" })).items;
  } catch (e) {
    types = [];
  }
  const typeName = (id) => (id === null ? "" : types.find((t) => t.id === id)?.name || "#" + id);
  const epBox = h("div", {});
  let panel = null;
  let table;

  const closeEpisodes = () => {
    if (panel) panel.stop();
    panel = null;
    clear(epBox);
  };
  const showEpisodes = (p) => {
    closeEpisodes();
    panel = episodesPanel(p, pm, closeEpisodes);
    epBox.append(panel);
    panel.focusHeading();
  };
  const edit = (p) => {
    const f = podcastForm(p, types, () => {
      toast(p ? "Podcast saved." : "Subscribed; the feed is checked shortly.");
      f.closest("dialog")?.close();
      table.reload();
    });
    dialog(p ? "Podcast settings: " + nameOf(p) : "Subscribe to a podcast", f);
  };
  const poll = async (p) => {
    try {
      await post("/podcasts/" + p.id + "/poll");
      toast("Checking “" + nameOf(p) + "” now.");
      announce("Feed check queued");
      // The check takes a moment; show its outcome when it is likely done.
      setTimeout(() => table.reload(), 4000);
    } catch (e) {
      toast(errorText(e), "error");
    }
  };
  const remove = async (p) => {
    if (!(await confirmAction("Unsubscribe from “" + nameOf(p) + "”? Imported files stay in " +
      "the library.", "Unsubscribe"))) return;
    try {
      await del("/podcasts/" + p.id);
      toast("Unsubscribed.");
      closeEpisodes();
      table.reload();
    } catch (e) {
      await dialog("Cannot delete", h("p", { role: "alert" }, errorText(e)));
    }
  };

  const sr = (p) => h("span", { class: "visually-hidden" }, " " + nameOf(p));
  table = dataTable([
    { key: "title", label: "Podcast", sort: "title", render: (p) => p.title ||
      h("span", { class: "muted" }, "(not checked yet)") },
    { key: "url", label: "Feed", render: (p) => h("span", { class: "url-cell" }, p.url) },
    { key: "auto_ingest", label: "Auto-import", render: (p) => (p.auto_ingest ? "yes" : "no") },
    { key: "track_type_id", label: "Track type", render: (p) => typeName(p.track_type_id) },
    { key: "last_checked_at", label: "Last checked", render: (p) =>
      h("span", {}, p.last_checked_at ? fmtTime(p.last_checked_at) : "never",
        p.last_error ? h("small", { class: "bad reason" }, " " + p.last_error) : null) },
    { key: "poll_interval_us", label: "Checked every", hidden: true,
      render: (p) => +(p.poll_interval_us / HOUR_US).toFixed(2) + " h" },
    { key: "created_at", label: "Added", sort: "created_at", hidden: true,
      render: (p) => fmtTime(p.created_at) },
  ], {
    caption: "Subscriptions",
    sort: "title",
    fetch: (q) => get("/podcasts", q),
    filters: [{ name: "auto_ingest", label: "Auto-import", type: "select",
      options: [["", "All"], ["true", "On"], ["false", "Off"]] }],
    rowActions: (p) => [
      h("button", { type: "button", onclick: () => showEpisodes(p) }, "Episodes", sr(p)),
      pm ? h("button", { type: "button", onclick: () => poll(p) }, "Check now", sr(p)) : null,
      pm ? h("button", { type: "button", onclick: () => edit(p) }, "Settings", sr(p)) : null,
      pm ? h("button", { type: "button", class: "danger", onclick: () => remove(p) },
        "Delete", sr(p)) : null,
    ],
  });
  table.classList.add("lib-table");

  main.append(pageHead("Podcasts", pm ? h("button", { type: "button", class: "primary",
    onclick: () => edit(null) }, "Subscribe") : null), table, epBox);
  return closeEpisodes;
}
