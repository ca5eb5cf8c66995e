// Drive the embeddable player page (GET /player) in headless Chromium and
// listen to what it plays. Run by test_player.py, which starts the station:
//
//   node player_check.mjs CONFIG.json
//
// CONFIG: {"base": "http://127.0.0.1:PORT" (onair api), "icecast": the
// Icecast origin, "title": the title on air, "freq": its tone in Hz,
// "screenshots": a directory, "chromium": the browser's path}.
//
// Prints one line per check, "CHECK {"ok": bool, "what": text, "detail": any}",
// and "# ..." notes. In the middle it prints "STOP-API" and waits for a line
// on stdin: the caller stops onair api, and the page must keep what it
// showed and say it is reconnecting while the stream plays on.
//
// With "mode": "hls" and "hls": the HLS server's origin (onair api has only
// public.hls_url), the page must play HLS through hls.js instead: see
// runHls.
import { readFileSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { chromium } from "playwright-core";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const check = (ok, what, detail = "") =>
  console.log("CHECK " + JSON.stringify({ ok: Boolean(ok), what, detail }));
const note = (...a) => console.log("# " + a.join(" "));
const stdinLines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdinLines.once("line", resolve));

// Chromium's sandbox does not run as root: the tests run as root in
// containers and CI, so --no-sandbox (which playwright-core also passes unless
// told chromiumSandbox: true); fine for a test of our own page, never for
// browsing. No sound card is needed: headless Chromium renders audio to a
// fake output (the AudioContext runs at 44.1 kHz with no device), and
// playwright-core passes --mute-audio, which silences that output but not
// the Web Audio graph read here. No --autoplay-policy flag either: headless
// Chromium keeps the autoplay policy (play() without a user gesture is
// refused, as ?autoplay=1 shows below), and a key press sent through
// playwright-core is a user gesture, as a listener's would be. (page.evaluate
// runs as a user gesture too, which lets the analyser's AudioContext start.)
const args = [];
if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
const browser = await chromium.launch({ executablePath: cfg.chromium, headless: true, args });
let failed = false;
try {
  await (cfg.mode === "hls" ? runHls(browser) : run(browser));
} catch (e) {
  failed = true;
  check(false, "the browser session ran to its end", String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
  stdinLines.close();
}
process.exit(failed ? 1 : 0);

async function run(browser) {
  mkdirSync(cfg.screenshots, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1024, height: 640 } });
  const page = await context.newPage();
  const consoleErrors = [];
  const requests = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
  page.on("request", (r) => requests.push(r.url()));

  const res = await page.goto(cfg.base + "/player", { waitUntil: "load" });
  check(res && res.status() === 200, "GET /player loads (200)", res && res.status());

  // What is on air, in an aria-live region.
  let shown = false;
  try {
    await page.waitForFunction((t) => document.getElementById("now-title").textContent === t,
                               cfg.title, { timeout: 20000 });
    shown = true;
  } catch (e) { /* reported below */ }
  const nowText = await page.textContent("#now-title");
  check(shown, `the page shows "${cfg.title}" on air`, nowText);
  const live = await page.evaluate((t) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.textContent.includes(t)) {
        const region = n.parentElement.closest("[aria-live]");
        return region ? region.getAttribute("aria-live") : "none";
      }
    }
    return "not found";
  }, cfg.title);
  check(live === "polite" || live === "assertive",
        "the title is in an aria-live region", live);
  check(await page.getByText(cfg.station, { exact: true }).count() === 1,
        "the station's name is shown", cfg.station);
  const progress = Number(await page.getAttribute("#now-bar", "aria-valuenow"));
  check(progress > 0 && progress < 100, "the progress bar shows the item part played",
        progress);

  // The play button, reached and pressed with the keyboard only.
  const playBtn = page.getByRole("button", { name: "Play the live stream" });
  check(await playBtn.count() === 1 && await playBtn.isEnabled(),
        "a button named \"Play the live stream\" is enabled");
  let focused = false;
  for (let i = 0; i < 10 && !focused; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement &&
                                  document.activeElement.id === "play");
  }
  check(focused, "Tab reaches the play button");
  await page.keyboard.press("Enter");
  const stopBtn = page.getByRole("button", { name: "Stop the live stream" });
  let named = false;
  try {
    await stopBtn.waitFor({ timeout: 5000 });
    named = true;
  } catch (e) { /* reported */ }
  check(named, "Enter plays; the button's accessible name becomes \"Stop the live stream\"");
  let playing = false;
  try {
    await page.waitForFunction(() => {
      const a = document.getElementById("audio");
      return !a.paused && a.readyState >= 3 && a.currentTime > 0.5;
    }, null, { timeout: 20000 });
    playing = true;
  } catch (e) { /* reported */ }
  const audioState = await page.evaluate(() => {
    const a = document.getElementById("audio");
    return { src: a.currentSrc, paused: a.paused, readyState: a.readyState,
             time: a.currentTime, crossOrigin: a.crossOrigin,
             error: a.error && a.error.message,
             status: document.getElementById("status").textContent };
  });
  check(playing && audioState.src.startsWith(cfg.icecast + "/"),
        "the <audio> element plays the Icecast stream", audioState);

  // Listen: a Web Audio analyser on the page's <audio> element.
  await listen(page);

  await page.screenshot({ path: join(cfg.screenshots, "player-desktop.png") });
  const status = await page.textContent("#status");
  check(/playing/i.test(status), "the status line says it is playing", status);

  // Phone width: no horizontal scrolling.
  await page.setViewportSize({ width: 375, height: 740 });
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
    body: document.body.scrollWidth,
  }));
  check(widths.scroll <= widths.client && widths.body <= widths.client,
        "at 375 px wide the page does not scroll sideways", widths);
  await page.screenshot({ path: join(cfg.screenshots, "player-phone.png"), fullPage: true });

  // The dark theme, at phone width (a picture only). A context of its
  // own: Chromium lets a page autoplay once the user clicked on that site
  // in the same context (as the first page did). And nothing is evaluated
  // in the page until its autoplay attempt is over: playwright-core runs
  // evaluate (and waitForFunction's polls) as a user gesture, which would
  // let play() through. The page's status is read from the console,
  // where an init script reports each change.
  const darkContext = await browser.newContext({ viewport: { width: 375, height: 740 } });
  await darkContext.addInitScript(() => {
    document.addEventListener("DOMContentLoaded", () => {
      const el = document.getElementById("status");
      if (!el) return;
      const report = () => console.log("player-status: " + el.textContent);
      new MutationObserver(report).observe(el, { childList: true, characterData: true,
                                                 subtree: true });
      report();
    });
  });
  const dark = await darkContext.newPage();
  dark.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push("dark page: " + m.text());
  });
  dark.on("pageerror", (e) => consoleErrors.push("dark page: uncaught: " + e.message));
  dark.on("request", (r) => requests.push(r.url()));
  // Chromium refuses play() without a user gesture: the page must say so
  // and offer the button (the autoplay policy is lifted below).
  const refusal = dark.waitForEvent("console", {
    predicate: (m) => /^player-status: .*press play/i.test(m.text()), timeout: 20000,
  }).then(() => true, () => false);
  await dark.goto(cfg.base + "/player?theme=dark&autoplay=1&unknown=x");
  const refused = await refusal;
  await dark.waitForFunction((t) => document.getElementById("now-title").textContent === t,
                             cfg.title, { timeout: 10000 }).catch(() => {});
  const auto = await dark.evaluate(() => {
    const a = document.getElementById("audio");
    return { paused: a.paused, src: a.getAttribute("src"),
             status: document.getElementById("status").textContent };
  });
  check(refused && auto.paused && !auto.src &&
        await dark.getByRole("button", { name: "Play the live stream" }).count() === 1,
        "?autoplay=1 refused by the browser: the page says to press play", auto);
  const theme = await dark.evaluate(() => ({
    attr: document.documentElement.getAttribute("data-theme"),
    background: getComputedStyle(document.body).backgroundColor,
  }));
  check(theme.attr === "dark" && theme.background === "rgb(21, 24, 29)",
        "?theme=dark is applied (unknown parameters ignored)", theme);
  await dark.screenshot({ path: join(cfg.screenshots, "player-phone-dark.png"),
                          fullPage: true });
  await dark.close();
  await darkContext.close();

  // Where the browser allows autoplay, ?autoplay=1 plays at once.
  const lax = await chromium.launch({
    executablePath: cfg.chromium, headless: true,
    args: args.concat(["--autoplay-policy=no-user-gesture-required"]),
  });
  try {
    const p = await lax.newPage();
    await p.goto(cfg.base + "/player?autoplay=1");
    let played = false;
    try {
      await p.waitForFunction(() => {
        const a = document.getElementById("audio");
        return !a.paused && a.currentTime > 0.2;
      }, null, { timeout: 20000 });
      played = true;
    } catch (e) { /* reported */ }
    const st = await p.textContent("#status");
    check(played && await p.getByRole("button", { name: "Stop the live stream" }).count() === 1,
          "?autoplay=1 plays at once where the browser allows autoplay", st);
  } finally {
    await lax.close();
  }

  // Nothing but the API and Icecast was asked for; nothing logged an error.
  const origins = [...new Set(requests.filter((u) => !u.startsWith("data:"))
    .map((u) => new URL(u).origin))];
  check(origins.every((o) => o === cfg.base || o === cfg.icecast),
        "the page requests only the API and Icecast", origins);
  check(consoleErrors.length === 0, "no console errors", consoleErrors);

  // The API goes away: the page keeps what it showed, says it is
  // reconnecting, and the stream plays on.
  console.log("STOP-API");
  await nextLine();
  let reconnecting = false;
  try {
    await page.waitForFunction(() => /reconnecting/i.test(
      document.getElementById("status").textContent), null, { timeout: 40000 });
    reconnecting = true;
  } catch (e) { /* reported */ }
  const after = await page.evaluate(() => ({
    title: document.getElementById("now-title").textContent,
    status: document.getElementById("status").textContent,
    playing: !document.getElementById("audio").paused,
  }));
  check(reconnecting && after.title === cfg.title && after.playing,
        "with the API unreachable the page keeps its state, says it is reconnecting, " +
        "and plays on", after);

  // Stop, with the keyboard again (the button keeps the focus).
  const wasStop = await stopBtn.count() === 1;
  await page.keyboard.press("Space");
  const stopped = await page.evaluate(() => ({
    paused: document.getElementById("audio").paused,
    src: document.getElementById("audio").getAttribute("src"),
  }));
  check(wasStop && await page.getByRole("button", { name: "Play the live stream" }).count() === 1 &&
        stopped.paused && !stopped.src,
        "Space stops; the button is named \"Play the live stream\" again", stopped);

  note("screenshots:", join(cfg.screenshots, "player-desktop.png"),
       join(cfg.screenshots, "player-phone.png"),
       join(cfg.screenshots, "player-phone-dark.png"));
}

// Listen to the page's <audio> element through a Web Audio analyser for 3 s:
// it must hear sound, its dominant frequency cfg.freq within one FFT bin.
async function listen(page, prefix = "") {
  const heard = await page.evaluate(async () => {
    const a = document.getElementById("audio");
    const ctx = new AudioContext();
    const src = ctx.createMediaElementSource(a);
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    src.connect(an);
    an.connect(ctx.destination);
    await ctx.resume();
    const bins = new Float32Array(an.frequencyBinCount);
    const peaks = [];
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 250));
      an.getFloatFrequencyData(bins);
      let k = 1;
      for (let j = 1; j < bins.length; j++) if (bins[j] > bins[k]) k = j;
      peaks.push({ hz: k * ctx.sampleRate / an.fftSize, db: bins[k] });
    }
    return { rate: ctx.sampleRate, binHz: ctx.sampleRate / an.fftSize, state: ctx.state,
             peaks };
  });
  note("analyser:", heard.state, "at", heard.rate, "Hz, bin", heard.binHz.toFixed(2), "Hz;",
       "peaks (Hz@dB):", heard.peaks.map((p) => p.hz.toFixed(1) + "@" +
                                              p.db.toFixed(0)).join(" "));
  const loud = heard.peaks.filter((p) => p.db > -70);
  const hz = loud.map((p) => p.hz).sort((a, b) => a - b);
  const median = hz.length ? hz[Math.floor(hz.length / 2)] : NaN;
  check(loud.length >= 8, prefix + "the page plays sound (the analyser hears more than silence)",
        heard.peaks);
  check(Math.abs(median - cfg.freq) <= heard.binHz,
        prefix + `the dominant frequency is ${cfg.freq} Hz within one FFT bin ` +
        `(${heard.binHz.toFixed(2)} Hz): ${median.toFixed(2)} Hz`, heard.peaks);
}

// onair api has public.hls_url only: the page plays HLS, through hls.js
// where the browser does not play HLS itself. Debian's Chromium says it
// does (canPlayType("application/vnd.apple.mpegurl") is "maybe" since its
// built-in HLS player), so the page is shown a browser that does not, as
// Firefox is: canPlayType answers "" for HLS types.
async function runHls(browser) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 640 } });
  await context.addInitScript(() => {
    const orig = HTMLMediaElement.prototype.canPlayType;
    HTMLMediaElement.prototype.canPlayType = function (type) {
      return /mpegurl/i.test(String(type)) ? "" : orig.call(this, type);
    };
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const requests = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
  page.on("request", (r) => requests.push({ url: r.url(), at: Date.now() }));
  const vendor = cfg.base + "/vendor/hls.light.min.js";
  let vendorStatus = null;
  page.on("response", (r) => {
    if (r.url() === vendor) vendorStatus = r.status();
  });

  const res = await page.goto(cfg.base + "/player", { waitUntil: "load" });
  check(res && res.status() === 200, "HLS only: GET /player loads (200)", res && res.status());
  try {
    await page.waitForFunction((t) => document.getElementById("now-title").textContent === t,
                               cfg.title, { timeout: 20000 });
  } catch (e) { /* reported below */ }
  const playBtn = page.getByRole("button", { name: "Play the live stream" });
  check(await playBtn.count() === 1 && await playBtn.isEnabled() &&
        !requests.some((r) => r.url === vendor),
        "HLS only: the play button is enabled; hls.js is not loaded before play",
        requests.map((r) => r.url));
  await playBtn.focus();
  await page.keyboard.press("Enter");
  let playing = false;
  try {
    await page.waitForFunction(() => {
      const a = document.getElementById("audio");
      return !a.paused && a.readyState >= 3 && a.currentTime > 0.5;
    }, null, { timeout: 30000 });
    playing = true;
  } catch (e) { /* reported */ }
  const audioState = await page.evaluate(() => {
    const a = document.getElementById("audio");
    return { src: a.currentSrc, paused: a.paused, readyState: a.readyState,
             time: a.currentTime, error: a.error && a.error.message,
             hlsJs: typeof window.Hls === "function" ? window.Hls.version : null,
             status: document.getElementById("status").textContent };
  });
  check(requests.some((r) => r.url === vendor) && vendorStatus === 200 && audioState.hlsJs,
        "HLS only: play loads hls.js from /vendor/hls.light.min.js (200)",
        { status: vendorStatus, version: audioState.hlsJs });
  check(playing && audioState.src.startsWith("blob:"),
        "HLS only: the <audio> element plays a MediaSource (blob: URL) fed by hls.js",
        audioState);
  check(requests.some((r) => r.url.startsWith(cfg.hls + "/") && /\.m3u8(\?|$)/.test(r.url)) &&
        requests.some((r) => r.url.startsWith(cfg.hls + "/") && /\.ts(\?|$)/.test(r.url)),
        "HLS only: hls.js fetched the playlist and segments from the HLS server",
        requests.map((r) => r.url).filter((u) => u.startsWith(cfg.hls)).slice(0, 6));
  await listen(page, "HLS only: ");
  const status = await page.textContent("#status");
  check(/playing \(HLS\)/i.test(status), "HLS only: the status line says it plays HLS", status);
  await page.screenshot({ path: join(cfg.screenshots, "player-hls.png") });

  // Stop: hls.js is destroyed, so nothing more is fetched from the HLS
  // server (the playlist of a live stream is otherwise asked again every
  // target duration).
  await page.keyboard.press("Space");
  const stoppedAt = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  const stopped = await page.evaluate(() => ({
    paused: document.getElementById("audio").paused,
    src: document.getElementById("audio").getAttribute("src"),
    status: document.getElementById("status").textContent,
  }));
  const after = requests.filter((r) => r.at > stoppedAt + 200 && r.url.startsWith(cfg.hls))
    .map((r) => r.url);
  check(await page.getByRole("button", { name: "Play the live stream" }).count() === 1 &&
        stopped.paused && !stopped.src && after.length === 0,
        "HLS only: Space stops; nothing more is fetched from the HLS server",
        { stopped, after });

  const origins = [...new Set(requests.map((r) => r.url).filter((u) => !u.startsWith("data:") &&
                                                                   !u.startsWith("blob:"))
    .map((u) => new URL(u).origin))];
  check(origins.every((o) => o === cfg.base || o === cfg.hls),
        "HLS only: the page requests only the API and the HLS server", origins);
  check(consoleErrors.length === 0,
        "HLS only: no console errors (nothing refused by the Content-Security-Policy)",
        consoleErrors);
  note("screenshot:", join(cfg.screenshots, "player-hls.png"));
}
