// Listen live in Debian's headless chromium, run inside the lab's bridge namespace by
// tests/e2e/lab.rs while a call is in progress: clicks "Listen live" on the call, stops its
// recording with the call's button, then waits for the call to end and show up in "Last
// calls", then for the voicemail the provider reports, then (on the call log) for the next
// call, all without a reload; reports what arrived over the WebSocket, what the audio worklet
// played, the last calls, the voicemail line and the call log's numbers, as JSON.
import { launch } from "./launch.mjs";

const base = process.env.CONSOLE_URL;
const browser = await launch();
const result = {};
try {
  const page = await browser.newPage();
  result.page_errors = [];
  page.on("pageerror", (error) => result.page_errors.push(error.message));
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) result.page_errors.push(message.text());
  });
  await page.goto(`${base}/#glance`);
  await page.waitForSelector("#live-calls li[data-key] button.listen", { timeout: 10000 });
  const clicked = Date.now();
  await page.click("#live-calls li[data-key] button.listen");
  await page.waitForFunction(() => window.ringsideListen && window.ringsideListen.messages > 0, null, { timeout: 10000 });
  result.first_audio_ms = Date.now() - clicked;
  await page.waitForTimeout(2000);
  result.listen = await page.evaluate(() => ({
    messages: window.ringsideListen.messages,
    frames: window.ringsideListen.frames,
    played: window.ringsideListen.played,
  }));
  if (process.env.SHOT) await page.screenshot({ path: process.env.SHOT });
  await page.click("#live-calls li[data-key] button.listen"); // stop listening
  // Stop recording the call with its button: the agent confirms, the button says so.
  await page.click("#live-calls li[data-key] button:text('Recording — stop')");
  await page.waitForSelector("#live-calls li[data-key] button:text-is('Record')", { timeout: 5000 });
  result.recording_stopped = true;
  result.listen_offered_unrecorded = await page.isEnabled("#live-calls li[data-key] button.listen");
  // The call ends by itself a few seconds later: the page, never reloaded, moves it from
  // "Calls in progress" to "Last calls" once the agent has logged it.
  await page.waitForFunction(() => !document.querySelector("#live-calls li[data-key]")
    && document.querySelector("#recent-calls").textContent.includes("answered"), null, { timeout: 20000 });
  result.last_calls = await page.$$eval("#recent-calls li", (items) => items.map((item) => item.textContent));
  // Then the provider says voicemail is waiting: it shows at a glance, still without a reload.
  await page.waitForSelector("#voicemail:not([hidden])", { timeout: 30000 });
  result.voicemail = await page.textContent("#voicemail");
  // Then the call log, open on its first page, shows the next call once it is logged.
  await page.click("nav a[data-page=calls]");
  await page.waitForSelector("#call-table tbody tr[data-id]");
  const before = await page.$$eval("#call-table tbody tr[data-id]", (rows) => rows.length);
  await page.waitForFunction((n) => document.querySelectorAll("#call-table tbody tr[data-id]").length > n, before, { timeout: 30000 });
  result.call_log = await page.$$eval("#call-table tbody tr[data-id] td:nth-child(3)", (cells) => cells.map((c) => c.textContent));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
