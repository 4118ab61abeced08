// The listen-live delay, measured (run by tests/bench/listen.rs inside the lab's bridge
// namespace while a call with tone bursts is in progress): clicks "Listen live" and, for every
// burst's onset in the caller's channel, notes when its message arrived and when the worklet
// will play it (arrival plus the audio still queued ahead of it). Prints both lists of epoch
// milliseconds as JSON once the call has ended.
import { launch } from "./launch.mjs";

const base = process.env.CONSOLE_URL;
const browser = await launch();
let result;
try {
  const page = await browser.newPage();
  // Watch the page's WebSocket: the caller's channel (left) going loud after half a second of
  // silence is an onset.
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    window.onsets = { arrived: [], heard: [] };
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        let quiet = 0;
        this.addEventListener("message", (event) => {
          const now = performance.timeOrigin + performance.now();
          const stats = window.ringsideListen;
          const queued = stats ? stats.frames - stats.played - stats.skipped : 0;
          const samples = new Int16Array(event.data);
          for (let i = 0; i < samples.length; i += 2) {
            const loud = Math.abs(samples[i]) > 2000;
            if (loud && quiet >= 4000) {
              window.onsets.arrived.push(now);
              window.onsets.heard.push(now + ((queued + i / 2) / 8000) * 1000);
            }
            quiet = loud ? 0 : quiet + 1;
          }
        });
      }
    };
  });
  await page.goto(`${base}/#glance`);
  await page.waitForSelector("#live-calls li[data-key] button.listen", { timeout: 10000 });
  await page.click("#live-calls li[data-key] button.listen");
  await page.waitForSelector("#live-calls li[data-key]", { state: "detached", timeout: 120000 });
  result = await page.evaluate(() => window.onsets);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
