// The console's warning after the agent survived a panic of its engine (run by
// tests/e2e/lab_hostile.rs inside the lab's bridge namespace): opens the page, says "ready",
// then waits for the warning that the page shows when the live events report a fault.
// Prints the warning's text and any script errors as JSON.
import { launch } from "./launch.mjs";

const base = process.env.CONSOLE_URL;
const browser = await launch();
const result = { page_errors: [] };
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => result.page_errors.push(error.message));
  await page.goto(`${base}/#glance`);
  await page.waitForSelector("#live-calls");
  result.hidden_before = await page.isHidden("#fault");
  console.error("ready");
  await page.waitForSelector("#fault:not([hidden])", { timeout: 20000 });
  result.fault = await page.textContent("#fault");
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
