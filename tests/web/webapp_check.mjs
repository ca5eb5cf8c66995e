// Drive the web app in headless Chromium as a station's staff would. Run
// by test_webapp.py, which starts the station:
//
//   node webapp_check.mjs CONFIG.json
//
// CONFIG: {"base": onair api's origin, "file": an audio file to upload,
// "title": its title tag, "password": every user's password,
// "screenshots": a directory, "chromium": the browser's path}.
//
// Prints "CHECK {"ok", "what", "detail"}" per check, "# ..." notes, and
// "SCHEDULED" once the file is in the show on air (the caller listens to
// Icecast from then on). Only the page's own controls are used: labels,
// button names and headings, as a keyboard or screen reader user finds them.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const check = (ok, what, detail = "") =>
  console.log("CHECK " + JSON.stringify({ ok: Boolean(ok), what, detail }));
const note = (...a) => console.log("# " + a.join(" "));
const T = cfg.title;

// As in player_check.mjs: no sandbox as root (tests only).
const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [];
const browser = await chromium.launch({ executablePath: cfg.chromium, headless: true, args });
let failed = false;
try {
  await run();
} catch (e) {
  failed = true;
  check(false, "the browser session ran to its end", String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

async function session(name, width = 1280, height = 800) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => {
    // The first /auth/me before logging in is a 401 by design.
    if (m.type() === "error" && !/401 \(Unauthorized\)/.test(m.text())) page.errors.push(m.text());
  });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.setDefaultTimeout(20000);
  await page.goto(cfg.base + "/");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(cfg.password);
  await page.getByLabel("Password").press("Enter");
  await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  return page;
}

async function shot(page, name) {
  mkdirSync(cfg.screenshots, { recursive: true });
  const path = join(cfg.screenshots, "webapp-" + name + ".png");
  await page.screenshot({ path, fullPage: true });
  return path;
}

async function go(page, hash, heading) {
  await page.goto(cfg.base + "/#" + hash);
  if (heading) await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
}

// Wait until fn() is true, reloading the page between tries.
async function eventually(page, fn, seconds, reload) {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return true;
    await page.waitForTimeout(1000);
    if (reload) await reload();
  }
  return false;
}

async function run() {
  const shots = [];
  const pm = await session("pm");
  check(true, "a program manager logs in through the form");

  // -- library: upload and see it analysed
  await go(pm, "/library", "Library");
  await pm.locator("input[type=file]").setInputFiles(cfg.file);
  const ready = await eventually(pm, () => pm.getByText(/ready/).first().isVisible(), 60);
  check(ready, "the upload is analysed (its status says ready)",
    await pm.locator("main").innerText().catch(() => ""));
  await eventually(pm, () => pm.getByRole("cell", { name: T }).first().isVisible(), 10,
    () => go(pm, "/library", "Library"));
  shots.push(await shot(pm, "library"));

  // -- a playlist of it
  await go(pm, "/playlists", "Playlists");
  await pm.getByRole("button", { name: "New playlist" }).click();
  await pm.getByRole("dialog").getByLabel("Name").fill("Web Playlist");
  await pm.getByRole("button", { name: "Create playlist" }).click();
  await pm.getByRole("heading", { name: "Add items" }).waitFor();
  await pm.getByLabel("Search").fill("Web Tone");
  await pm.getByRole("button", { name: new RegExp("^Add " + T) }).first().click();
  await pm.getByRole("button", { name: "Save items" }).click();
  const saved = await eventually(pm, async () => {
    const r = await pm.evaluate(async () => {
      const l = await (await fetch("/api/v1/playlists?q=Web%20Playlist")).json();
      const id = l.items[0].id;
      return (await (await fetch("/api/v1/playlists/" + id + "/items")).json()).items;
    });
    return r.length === 1 && r[0].title === T;
  }, 10);
  check(saved, "a playlist is made of it, by search, Add and Save");
  shots.push(await shot(pm, "playlist"));

  // -- a weekly show, on now, hosted by host1
  await go(pm, "/calendar", "Calendar");
  await pm.getByRole("button", { name: "New show" }).click();
  const dlg = pm.getByRole("dialog");
  await dlg.getByLabel("Name", { exact: true }).fill("Web Show");
  await dlg.getByRole("button", { name: "Create the show" }).click();
  await dlg.getByRole("heading", { name: "When it is on" }).waitFor();
  const start = new Date(Date.now() - 60 * 1000);
  const hhmm = String(start.getHours()).padStart(2, "0") + ":" +
    String(start.getMinutes()).padStart(2, "0");
  const ymd = start.getFullYear() + "-" + String(start.getMonth() + 1).padStart(2, "0") + "-" +
    String(start.getDate()).padStart(2, "0");
  await dlg.getByLabel("How often").selectOption("weekly");
  await dlg.getByLabel("First date").fill(ymd);
  await dlg.getByLabel("Start time").fill(hhmm);
  await dlg.getByLabel("Length in minutes").fill("30");
  // The rule's weekday is the first date's (a minute ago may be yesterday).
  const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  for (let i = 0; i < 7; i++) {
    await dlg.getByLabel(days[i], { exact: true }).setChecked(i === (start.getDay() + 6) % 7);
  }
  await dlg.getByRole("button", { name: "Add the rule" }).click();
  await dlg.getByText(/Weekly/).first().waitFor();
  await dlg.getByLabel("Find a user to add").fill("host1");
  await dlg.getByRole("button", { name: /^Add .*host1.* as host$/ }).click();
  await dlg.getByRole("button", { name: /^Remove/ }).first().waitFor();
  shots.push(await shot(pm, "show-dialog"));
  await dlg.getByRole("button", { name: "Close", exact: true }).last().click();
  const link = pm.getByRole("link", { name: /Web Show/ }).first();
  check(await eventually(pm, () => link.isVisible(), 10), "the weekly show is in the calendar");
  shots.push(await shot(pm, "calendar"));

  // -- the playlist into today's instance
  await link.click();
  await pm.getByRole("heading", { name: "Web Show", level: 1 }).waitFor();
  const builderUrl = pm.url();
  await pm.getByLabel("What").selectOption("playlist");
  await pm.getByLabel("Search").fill("Web Playlist");
  await pm.getByRole("button", { name: /^Add Web Playlist/ }).click();
  check(await eventually(pm, () => pm.getByRole("cell", { name: new RegExp(T) }).first()
    .isVisible(), 10), "the playlist is scheduled into the instance (the builder lists it)");
  console.log("SCHEDULED");
  shots.push(await shot(pm, "builder"));

  // -- the dashboard, while it plays
  await go(pm, "/", "Dashboard");
  const planned = await eventually(pm, () => pm.locator(".card").first().getByText(T)
    .isVisible(), 30);
  check(planned, "the dashboard shows it on air now (the schedule's view)");
  const played = await eventually(pm, () => pm.locator("section[aria-label^='Playout']")
    .getByText(T).isVisible(), 60);
  check(played, "and the playout reports playing it, pushed live",
    await pm.locator("main").innerText().catch(() => ""));
  shots.push(await shot(pm, "dashboard"));

  // -- the history
  await go(pm, "/history", "History");
  const inLog = await eventually(pm, () => pm.getByRole("cell", { name: T }).first()
    .isVisible(), 30, () => go(pm, "/history", "History"));
  check(inLog, "the history lists it");
  shots.push(await shot(pm, "history"));
  for (const [hash, name] of [["/smart-blocks", "smart-blocks"], ["/webstreams", "webstreams"],
    ["/podcasts", "podcasts"], ["/users", "users"], ["/settings", "settings"],
    ["/account", "account"]]) {
    await go(pm, hash);
    await pm.waitForTimeout(700);
    shots.push(await shot(pm, name));
  }
  check(pm.errors.length === 0, "no errors in the program manager's console", pm.errors);

  // -- another host cannot edit host1's show
  const h2 = await session("host2");
  await h2.goto(builderUrl);
  await h2.getByRole("heading", { name: "Web Show", level: 1 }).waitFor();
  await h2.waitForTimeout(500);
  const noAdd = !(await h2.getByRole("heading", { name: "Add to the show" }).isVisible());
  const says = await h2.getByText("Only the show's hosts and program managers may change it.")
    .isVisible();
  const denied = await h2.evaluate(async (url) => {
    const id = url.split("/").pop();
    const me = await (await fetch("/api/v1/auth/me")).json();
    const inst = await (await fetch("/api/v1/instances/" + id)).json();
    const r = await fetch("/api/v1/instances/" + id + "/items", { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf_token },
      body: JSON.stringify({ version: inst.version, kind: "silence", length_us: 1000000 }) });
    return r.status;
  }, builderUrl);
  check(noAdd && says && denied === 403,
    "host2 cannot edit host1's show (no controls; the API says 403)", { noAdd, says, denied });
  shots.push(await shot(h2, "builder-other-host"));
  const h1 = await session("host1", 375, 740);
  await h1.goto(builderUrl);
  await h1.getByRole("heading", { name: "Web Show", level: 1 }).waitFor();
  check(await h1.getByRole("heading", { name: "Add to the show" }).isVisible(),
    "host1, its host, can edit it");
  const wide = await h1.evaluate(() => document.documentElement.scrollWidth >
    document.documentElement.clientWidth);
  check(!wide, "at 375 px the builder does not scroll sideways");
  shots.push(await shot(h1, "builder-phone"));
  await go(h1, "/", "Dashboard");
  shots.push(await shot(h1, "dashboard-phone"));

  // -- the public page plays the stream
  const pub = await (await browser.newContext()).newPage();
  await pub.goto(cfg.base + "/player");
  await pub.getByText(T).first().waitFor({ timeout: 20000 });
  const play = pub.getByRole("button", { name: /Play the live stream/ });
  await play.focus();
  await pub.keyboard.press("Enter");
  let playing = true;
  await pub.waitForFunction(() => {
    const a = document.querySelector("audio");
    return a && !a.paused && a.currentTime > 2;
  }, null, { timeout: 30000 }).catch(() => (playing = false));
  const state = await pub.evaluate(() => {
    const a = document.querySelector("audio");
    return { src: a.currentSrc, paused: a.paused, time: a.currentTime,
      error: a.error && a.error.message };
  });
  check(playing, "the public page plays the stream (and names " + T + ")", state);
  const week = pub.getByRole("region", { name: "This week" });
  check(await week.getByText("Web Show").first().isVisible().catch(() => false),
    "the public page lists the week's shows", await week.innerText().catch(() => ""));
  shots.push(await shot(pub, "player"));
  note("screenshots: " + shots.join(" "));
}
