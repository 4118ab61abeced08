// Ringside's console: one page, talking to the JSON API under /api/. No build step, no CDN:
// these modules are served as they are. This one switches pages and follows live events.
import { $, api, guarded, notice } from "./common.js";
import { loadCalls, onFirstPage, setUpCalls } from "./calls.js";
import { loadFilters, setUpFilters } from "./filters.js";
import { loadGlance, setUpGlance } from "./glance.js";
import { loadPhonebook, setUpPhonebook } from "./phonebook.js";
import { loadSettings, setUpSettings } from "./settings.js";

const loaders = { glance: loadGlance, calls: loadCalls, phonebook: loadPhonebook, filters: loadFilters, settings: loadSettings };

function currentPage() {
  const name = location.hash.replace("#", "").split("?")[0];
  return loaders[name] ? name : "glance";
}

async function refresh() {
  const page = currentPage();
  $("#notice").hidden = true;
  for (const section of document.querySelectorAll(".page")) section.classList.toggle("active", section.id === page);
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === page);
  try { await loaders[page](); } catch (error) { notice(error.message); }
}

// Live updates from the agent: calls starting, answered, ending, switched; `logged` once an
// ended call is in the call log, and `voicemail` when the provider's count changed. The call
// log reloads itself only on its first page, and not under a playing recording or an open
// dialog.
function followLiveEvents() {
  const source = new EventSource("/api/live/events");
  source.onmessage = (message) => {
    const { type } = JSON.parse(message.data);
    if (type === "fault") api("GET", "/session").then(showFaults).catch((error) => notice(error.message));
    const page = currentPage();
    if (page === "glance") loadGlance().catch((error) => notice(error.message));
    const busy = document.querySelector("dialog[open]") || [...document.querySelectorAll("audio")].some((a) => !a.paused);
    if (type === "logged" && page === "calls" && onFirstPage() && !busy) loadCalls().catch((error) => notice(error.message));
  };
}

// A warning that stays while the agent runs after surviving a panic of its engine.
function showFaults(session) {
  const faults = session.faults;
  const box = $("#fault");
  box.hidden = !faults || faults.count === 0;
  if (box.hidden) return;
  box.textContent = `Ringside's engine failed ${faults.count} time(s) and recovered; the last at ${faults.last_at}: ${faults.last}. ` +
    "The packet is kept in the data directory's quarantine folder; please report it.";
}

// "Log out" appears when the console asks for a password; live events come when the agent
// is behind the console (a console over a data directory alone has none).
async function start() {
  const session = await api("GET", "/session");
  const button = $("#logout");
  button.hidden = !session.login_required;
  button.onclick = guarded(async () => { await api("POST", "/logout"); location.assign("/login"); });
  showFaults(session);
  if (session.live) followLiveEvents();
}

setUpCalls();
setUpGlance();
setUpPhonebook();
setUpFilters();
setUpSettings();
window.addEventListener("hashchange", refresh);
refresh();
start().catch((error) => notice(error.message));
