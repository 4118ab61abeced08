// Listen live in Debian's headless chromium, run inside the lab's bridge namespace by
// tests/e2e/lab.rs while a call is in progress: clicks "Listen live" on the call and reports
// what arrived over the WebSocket and what the audio worklet played, as JSON.
import { chromium } from "playwright-core";

const base = process.env.CONSOLE_URL;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
  ],
});
const result = {};
try {
  const page = await browser.newPage();
  await page.goto(`${base}/#glance`);
  await page.waitForSelector("#live-calls li[data-key] button.listen", { timeout: 10000 });
  const clicked = Date.now();
  await page.click("#live-calls li[data-key] button.listen");
  await page.waitForFunction(() => window.ringsideListen && window.ringsideListen.messages > 0, null, { timeout: 5000 });
  result.first_audio_ms = Date.now() - clicked;
  await page.waitForTimeout(2000);
  result.listen = await page.evaluate(() => ({
    messages: window.ringsideListen.messages,
    frames: window.ringsideListen.frames,
    played: window.ringsideListen.played,
  }));
  if (process.env.SHOT) await page.screenshot({ path: process.env.SHOT });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
