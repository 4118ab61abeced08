// The web console in Debian's headless chromium, driven by playwright-core. Run by
// tests/e2e/browser.rs with CONSOLE_URL, SHOTS (a directory) and PASSWORD set; prints one
// JSON object with what it saw, which the Rust test checks.
import { launch } from "./launch.mjs";

const base = process.env.CONSOLE_URL;
const shots = process.env.SHOTS;
const result = { native_dialogs: [], page_errors: [] };

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  // The console asks in its own dialogs; a native prompt or alert would be a regression.
  page.on("dialog", (dialog) => { result.native_dialogs.push(dialog.message()); dialog.dismiss(); });
  // Script errors, and anything the content security policy refused, fail the test.
  page.on("pageerror", (error) => result.page_errors.push(error.message));
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) result.page_errors.push(message.text());
  });

  // Log in: the console has a password, so every page leads to the login form first.
  await page.goto(`${base}/#calls`);
  await page.waitForSelector("form#login input[name=password]");
  await page.fill("input[name=password]", "wrong password");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.length > 0);
  result.wrong_login = await page.textContent("#login-error");
  await page.screenshot({ path: `${shots}/console-login.png` });
  await page.fill("input[name=password]", process.env.PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForSelector("#call-table tbody tr[data-id]");
  result.after_login = page.url();

  // The call log shows the replayed calls, with the phonebook's name.
  await page.goto(`${base}/#calls`);
  await page.waitForSelector("#call-table tbody tr[data-id]");
  result.callers = await page.$$eval("#call-table tbody .who", (cells) => cells.map((c) => c.textContent));
  await page.screenshot({ path: `${shots}/console-calls.png` });
  result.blocked_by = await page.textContent("#call-table tbody tr:has(td:text-is('15550100007')) td:nth-child(4) .meta");

  // Rename a caller in the phonebook; the call log shows the new name.
  await page.goto(`${base}/#phonebook`);
  await page.waitForSelector("#phonebook-table tbody tr");
  await page.fill("#phonebook-add input[name=number]", "15550100003");
  await page.fill("#phonebook-add input[name=name]", "Dr. Smile");
  await page.click("#phonebook-add button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#phonebook-table").textContent.includes("Dr. Smile"));
  // Import names from a CSV file; they join the list.
  await page.setInputFiles("#phonebook-import", {
    name: "names.csv", mimeType: "text/csv", buffer: Buffer.from("number,name\n15550100006,Aunt May\n"),
  });
  await page.waitForFunction(() => document.querySelector("#phonebook-table").textContent.includes("Aunt May"));
  result.imported = await page.textContent("#phonebook-status");
  // Rename and delete entries from their rows, in the console's dialogs.
  await page.click("#phonebook-table tbody tr:has(td:text-is('15550100006')) button:text('Rename')");
  await page.fill("dialog[open] input[name=name]", "Aunt Maisie");
  await page.click("dialog[open] button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#phonebook-table").textContent.includes("Aunt Maisie"));
  await page.click("#phonebook-table tbody tr:has(td:text-is('15550100004')) button:text('Delete')");
  await page.click("dialog[open] button[type=submit]");
  await page.waitForSelector("#phonebook-table tbody tr:has(td:text-is('15550100004'))", { state: "detached" });
  await page.screenshot({ path: `${shots}/console-phonebook.png` });
  await page.goto(`${base}/#calls`);
  await page.waitForFunction(() => document.querySelector("#call-table").textContent.includes("Dr. Smile"));
  result.renamed = await page.$$eval("#call-table tbody .who", (cells) => cells.map((c) => c.textContent));

  // Name a number from the call log, in the console's own dialog.
  const nameRow = "#call-table tbody tr:has(td:text-is('15550100005'))";
  await page.click(`${nameRow} button:text('Name…')`);
  await page.waitForSelector("dialog[open] input[name=name]");
  await page.fill("dialog[open] input[name=name]", "Plumber");
  await page.screenshot({ path: `${shots}/console-name-dialog.png` });
  await page.click("dialog[open] button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#call-table").textContent.includes("Plumber"));
  result.named = await page.textContent(`${nameRow} .who`);

  // Block a number from the call log: asked first, then the filter goes first in the list.
  await page.click("#call-table tbody tr:has(td:text-is('15550100004')) button:text('Block')");
  await page.waitForSelector("dialog[open]");
  result.block_question = await page.textContent("dialog[open] h3");
  await page.click("dialog[open] button[type=submit]");
  await page.waitForSelector("#notice:not([hidden])");
  result.block_notice = await page.textContent("#notice");

  // Add two filters after the block above and the demo's two, then move the last one up.
  await page.goto(`${base}/#filters`);
  for (const [pattern, action] of [["anonymous", "block"], ["1555*", "allow"]]) {
    await page.fill("#filter-add input[name=pattern]", pattern);
    await page.selectOption("#filter-add select[name=action]", action);
    await page.click("#filter-add button[type=submit]");
    await page.waitForFunction((p) => document.querySelector("#filter-list").textContent.includes(p), pattern);
  }
  await page.click("#filter-list li:last-child button[title='Move up']");
  await page.waitForFunction(() => document.querySelector("#filter-list li:nth-child(4) .rule").textContent.startsWith("allow"));
  result.filters = await page.$$eval("#filter-list li .rule", (rules) => rules.map((r) => r.textContent));
  // Edit one: a narrower prefix.
  await page.click("#filter-list li:has(.rule:text('allow number 1555*')) button:text('Edit')");
  await page.waitForSelector("dialog[open] input[name=pattern]");
  await page.fill("dialog[open] input[name=pattern]", "15550100*");
  await page.screenshot({ path: `${shots}/console-filter-edit.png` });
  await page.click("dialog[open] button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#filter-list").textContent.includes("15550100*"));
  result.edited = await page.$$eval("#filter-list li .rule", (rules) => rules.map((r) => r.textContent));
  await page.fill("#filter-test input[name=number]", "anonymous");
  await page.click("#filter-test button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#filter-verdict").textContent.length > 0);
  result.verdict = await page.textContent("#filter-verdict");
  result.deciding = await page.textContent("#filter-list li.decides .rule");
  await page.screenshot({ path: `${shots}/console-filters.png` });

  // Play a recording: its time advances and its duration is the WAV's.
  await page.goto(`${base}/#calls`);
  // The calls page reloads its table on arriving (a hash change), which can replace an
  // <audio> found before the reload: each element on the page is started once, and the one
  // on the page is read, until it has played past 0.6 s (or failed). On a timeout the state
  // is read all the same, for the test to show.
  await page
    .waitForFunction(() => {
      const a = document.querySelector("#call-table audio");
      if (!a) return false;
      if (!a.dataset.started) {
        a.dataset.started = "yes";
        a.play().catch(() => {});
      }
      return a.currentTime > 0.6 || a.error;
    }, null, { timeout: 20000, polling: 100 })
    .catch(() => {});
  result.playback = await page.$eval("#call-table audio", (a) => ({ currentTime: a.currentTime, duration: a.duration, error: a.error && a.error.code }));
  await page.screenshot({ path: `${shots}/console-playing.png` });
  await page.$eval("#call-table audio", (a) => a.pause());

  // Search the call log by name, then by outcome.
  await page.fill("#call-search input[name=search]", "Mom");
  await page.click("#call-search button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#call-table tbody tr[data-id]").length === 1);
  result.searched = await page.$$eval("#call-table tbody .who", (cells) => cells.map((c) => c.textContent));
  await page.fill("#call-search input[name=search]", "");
  await page.selectOption("#call-search select[name=disposition]", "missed");
  await page.click("#call-search button[type=submit]");
  await page.waitForFunction(() => !document.querySelector("#call-table").textContent.includes("Mom"));
  result.missed = await page.$$eval("#call-table tbody .who", (cells) => cells.map((c) => c.textContent));
  await page.selectOption("#call-search select[name=disposition]", "");
  // One day, from and until: every call of that day (the demo's morning).
  await page.fill("#call-search input[name=since]", "2026-11-08");
  await page.fill("#call-search input[name=until]", "2026-11-08");
  await page.click("#call-search button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#call-table tbody tr[data-id]").length === 6, null, { timeout: 5000 })
    .catch(() => {}); // the count below tells what came instead
  result.one_day = await page.$$eval("#call-table tbody tr[data-id]", (rows) => rows.length);
  await page.fill("#call-search input[name=since]", "2026-11-09");
  await page.fill("#call-search input[name=until]", "");
  await page.click("#call-search button[type=submit]");
  await page.waitForSelector("#call-table tbody td.empty");
  await page.fill("#call-search input[name=since]", "");
  await page.click("#call-search button[type=submit]");

  // Delete Mom's recording (asked first): the call stays, without a player.
  const momRow = "#call-table tbody tr:has(td:text-is('15550100001'))";
  await page.waitForSelector(`${momRow} audio`);
  await page.click(`${momRow} button[title='Delete the recording']`);
  await page.click("dialog[open] button[type=submit]");
  await page.waitForSelector(`${momRow} audio`, { state: "detached" });
  result.deleted_row = await page.textContent(`${momRow} .who`);

  await page.goto(`${base}/#settings`);
  // The stored values are in the form (a select always has a value, so wait for the load).
  await page.waitForSelector("#settings-form[aria-busy=false]");
  await page.selectOption("#settings-form select[name=block_response]", "decline");
  await page.fill("#settings-form input[name=retention_days]", "90");
  await page.selectOption("#settings-form select[name=courtesy_beeps]", "true");
  await page.click("#settings-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#settings-saved").textContent === "Saved.");
  result.settings_saved = true;
  await page.screenshot({ path: `${shots}/console-settings.png` });
  // The announcement secret: too short is refused, a good one is set, then removed.
  await page.fill("#settings-form input[name=announce_secret]", "short");
  await page.click("#settings-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#settings-saved").textContent !== "Saved.");
  result.short_secret = await page.textContent("#settings-saved");
  await page.fill("#settings-form input[name=announce_secret]", "a secret long enough");
  await page.click("#settings-form button[type=submit]");
  await page.waitForSelector("#remove-secret:not([hidden])");
  await page.click("#remove-secret");
  await page.click("dialog[open] button[type=submit]");
  await page.waitForSelector("#remove-secret", { state: "hidden" });
  result.secret_removed = await page.textContent("#settings-saved");

  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${base}/#glance`);
  await page.waitForSelector("#recent-calls li");
  await page.waitForSelector("#voicemail:not([hidden])");
  result.voicemail = await page.textContent("#voicemail");
  await page.screenshot({ path: `${shots}/console-glance-phone.png` });
  // On a phone no page is wider than the screen (the tables turn into cards).
  result.phone_widths = {};
  for (const name of ["glance", "calls", "phonebook", "filters", "settings"]) {
    await page.goto(`${base}/#${name}`);
    await page.waitForSelector(`#${name}.active`);
    await page.waitForLoadState("networkidle");
    result.phone_widths[name] = await page.evaluate(() => document.documentElement.scrollWidth);
    if (name === "calls") {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${shots}/console-calls-phone.png`, fullPage: true });
    }
  }

  // A session that ends while the page is open: the next click leads to the login, and the
  // login back to that page.
  await page.context().clearCookies();
  await page.click("nav a[data-page=phonebook]");
  await page.waitForSelector("form#login");
  result.expired_at = page.url();
  await page.fill("input[name=password]", process.env.PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForSelector("#phonebook.active #phonebook-table tbody tr");
  result.back_at = page.url();

  // Log out: back to the login page, and the API no longer answers.
  await page.click("#logout");
  await page.waitForSelector("form#login");
  result.after_logout = await page.evaluate(async () => (await fetch("/api/calls")).status);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
