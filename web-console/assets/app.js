// Ringside's console: one page, talking to the JSON API under /api/. No build step, no CDN.
"use strict";

const PAGE_SIZE = 25;
const state = { offset: 0, query: {} };

const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const { dataset, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(node.dataset, dataset);
  for (const child of children) node.append(child);
  return node;
};

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["X-Ringside"] = "1"; // CSRF protection: the console refuses changes without it
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(`/api${path}`, options);
  if (response.status === 401) {
    location.assign(`/login${location.hash}`); // the session ended: log in again, then come back
    throw new Error("Log in again.");
  }
  if (!response.ok) {
    const error = await response.json().catch(() => ({ error: response.statusText }));
    throw new Error(error.error || response.statusText);
  }
  return response.status === 204 ? null : response.json();
}

// A message at the top of the page (an error unless said otherwise); it goes after a while.
function notice(message, kind = "error") {
  const box = $("#notice");
  box.textContent = message;
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

// Runs an action from a button, reporting its error instead of failing silently.
const guarded = (action) => async (...args) => {
  try { await action(...args); } catch (error) { notice(error.message); }
};

// A small form in a modal <dialog>. Resolves with the form's values (an object; empty for a
// plain confirmation), or null when cancelled with the button or Escape.
function ask({ title, message = "", fields = [], confirm = "Save", danger = false }) {
  return new Promise((resolve) => {
    const form = el("form", { method: "dialog" }, el("h3", { textContent: title }));
    if (message) form.append(el("p", { className: "hint", textContent: message }));
    for (const field of fields) {
      const input = field.options
        ? el("select", { name: field.name }, ...field.options.map((option) => el("option", { value: option, textContent: option })))
        : el("input", { name: field.name, required: true, autocomplete: "off" });
      input.value = field.value ?? "";
      form.append(el("label", {}, field.label, input));
    }
    const cancel = el("button", { type: "button", className: "plain", textContent: "Cancel" });
    const ok = el("button", { type: "submit", value: "ok", className: danger ? "solid-danger" : "", textContent: confirm });
    form.append(el("div", { className: "dialog-buttons" }, cancel, ok));
    const dialog = el("dialog", {}, form);
    cancel.onclick = () => dialog.close();
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? Object.fromEntries(new FormData(form)) : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function when(rfc3339) {
  const date = new Date(rfc3339);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function length(call) {
  if (!call.answered_at || !call.ended_at) return "";
  const seconds = Math.round((new Date(call.ended_at) - new Date(call.answered_at)) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// Line quality from the call's RTP counters: packets lost per direction.
function quality(call) {
  if (!call.quality) return "";
  const legs = [["caller", call.quality.remote], ["phone", call.quality.phone]];
  return legs
    .filter(([, leg]) => leg && leg.packets > 0)
    .map(([side, leg]) => `${side} ${(100 * leg.lost / (leg.packets + leg.lost)).toFixed(1)}% lost`)
    .join(" · ");
}

function who(call) {
  if (call.anonymous) return "Anonymous";
  return call.display || call.name || call.number || "Unknown";
}

function badge(disposition) {
  return el("span", { className: `badge ${disposition || "ongoing"}`, textContent: disposition || "in progress" });
}

function player(call) {
  if (!call.recording) return "";
  const url = `/api/calls/${call.id}/recording`;
  return el("span", { className: "recording" },
    el("img", { className: "wave", src: `/api/calls/${call.id}/waveform.svg`, alt: "waveform", loading: "lazy" }),
    el("audio", { controls: true, preload: "metadata", src: url }),
    " ",
    el("a", { href: url, download: `ringside-call-${call.id}.wav`, title: "Download the WAV", textContent: "⤓" }),
    " ",
    el("button", { className: "danger", textContent: "✕", title: "Delete the recording", onclick: guarded(async () => {
      const sure = await ask({ title: "Delete this recording?", message: "The call stays in the log.", confirm: "Delete", danger: true });
      if (sure) { await api("DELETE", `/calls/${call.id}/recording`); await loadCalls(); }
    }) }));
}

// ---- Call log ----------------------------------------------------------------------------
async function loadCalls() {
  const params = new URLSearchParams({ ...state.query, limit: PAGE_SIZE, offset: state.offset });
  for (const [key, value] of [...params]) if (!value) params.delete(key);
  const calls = await api("GET", `/calls?${params}`);
  const body = $("#call-table tbody");
  body.replaceChildren();
  if (calls.length === 0) body.append(el("tr", {}, el("td", { colSpan: 7, className: "empty", textContent: "No calls." })));
  for (const call of calls) {
    const actions = el("td", { className: "actions" });
    if (call.number) {
      actions.append(
        el("button", { className: "plain", textContent: "Name…", title: "Add to the phonebook", onclick: guarded(() => nameNumber(call.number, call.display || call.name || "")) }),
        " ",
        el("button", { className: "danger", textContent: "Block", title: "Block this number", onclick: guarded(() => blockNumber(call.number)) }),
      );
    }
    const outcome = el("td", {}, badge(call.disposition));
    if (call.blocked_by) outcome.append(el("div", { className: "meta", textContent: call.blocked_by }));
    body.append(el("tr", { dataset: { id: call.id } },
      el("td", { textContent: when(call.started_at) }),
      el("td", {}, el("div", { className: "who", textContent: `${call.direction === "outbound" ? "→ " : ""}${who(call)}` }),
        el("div", { className: "meta", textContent: `caller-ID: ${call.caller_id_source}`, title: call.caller_id_header })),
      el("td", { textContent: call.number || "withheld" }),
      outcome,
      el("td", {}, length(call), el("div", { className: "meta", textContent: quality(call) })),
      el("td", {}, player(call)),
      actions,
    ));
  }
  $("#page-label").textContent = `${state.offset + 1}–${state.offset + calls.length}`;
  $("#prev-page").disabled = state.offset === 0;
  $("#next-page").disabled = calls.length < PAGE_SIZE;
}

async function nameNumber(number, suggestion) {
  const answer = await ask({ title: `Name for ${number}`, fields: [{ name: "name", label: "Name", value: suggestion }] });
  if (!answer || !answer.name.trim()) return;
  await api("PUT", `/phonebook/${encodeURIComponent(number)}`, { name: answer.name.trim() });
  await refresh();
}

async function blockNumber(number) {
  const sure = await ask({
    title: `Block ${number}?`, message: "Its calls will go to voicemail without ringing. The filter goes first in the list.",
    confirm: "Block", danger: true,
  });
  if (!sure) return;
  await api("POST", "/filters", { pattern: number, action: "block", position: 1 });
  notice(`${number} is blocked: see Filters to undo.`, "info");
}

// ---- At a glance -------------------------------------------------------------------------
function ticking(since) {
  const seconds = Math.max(0, Math.round((Date.now() - new Date(since)) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

async function loadGlance() {
  const [live, calls, voicemail] = await Promise.all([api("GET", "/live/calls"), api("GET", "/calls?limit=12"), api("GET", "/voicemail")]);
  const box = $("#voicemail");
  box.hidden = !voicemail.waiting;
  const count = voicemail.new === 1 ? "1 new message" : voicemail.new > 1 ? `${voicemail.new} new messages` : "messages waiting";
  box.textContent = `✉ Voicemail: ${count}`;
  const liveList = $("#live-calls");
  liveList.replaceChildren();
  for (const call of live) {
    const toggle = el("button", {
      className: call.recording ? "danger" : "plain",
      textContent: call.recording ? "● Recording — stop" : "Record",
      onclick: guarded(() => api("POST", `/live/calls/${call.key}/recording`, { on: !call.recording })),
    });
    const listening = window.ringsideListen?.key === call.key;
    const listen = el("button", {
      className: "plain listen", textContent: listening ? STOP_LISTENING : LISTEN, onclick: guarded(() => listenLive(call.key)),
      disabled: !call.recording && !listening, title: call.recording ? "Hear the call in this browser" : "Only a call being recorded can be heard",
    });
    liveList.append(el("li", { dataset: { key: call.key } },
      el("div", { className: "who", textContent: `${call.direction === "outbound" ? "→ " : ""}${call.anonymous ? "Anonymous" : call.name || call.number}` }),
      el("div", { className: "meta", textContent: call.number || "withheld" }),
      el("div", { className: "meta" }, call.answered_at ? "talking " : "ringing ",
        el("span", { className: "tick", dataset: { since: call.answered_at || call.started_at }, textContent: ticking(call.answered_at || call.started_at) })),
      toggle, " ", listen));
  }
  if (!live.length) liveList.append(el("li", { className: "empty", textContent: "No call right now." }));
  const recent = $("#recent-calls");
  recent.replaceChildren();
  for (const call of calls.filter((c) => c.disposition)) {
    recent.append(el("li", {},
      el("div", { className: "who", textContent: who(call) }),
      el("div", { className: "meta", textContent: `${call.number || "withheld"} · ${when(call.started_at)}` }),
      badge(call.disposition)));
  }
}

// Listen live: the call's audio over a WebSocket, 20 ms at a time, into an AudioWorklet.
// `window.ringsideListen` counts what arrived, what played and what was skipped to keep the
// delay down (the browser tests read it).
const LISTEN = "▶ Listen live";
const STOP_LISTENING = "■ Stop listening";
const listenButton = (key) => document.querySelector(`#live-calls li[data-key="${key}"] button.listen`);

// One call at a time: a click on the call being heard stops it, on another call switches.
async function listenLive(key) {
  const current = window.ringsideListen;
  if (current) {
    current.stop();
    if (current.key === key) return;
  }
  const context = new AudioContext({ sampleRate: 8000 });
  await context.audioWorklet.addModule("/listen-worklet.js");
  const player = new AudioWorkletNode(context, "ringside-player", { outputChannelCount: [2] });
  player.connect(context.destination);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/live/calls/${key}/audio`);
  socket.binaryType = "arraybuffer";
  const stats = {
    key, messages: 0, frames: 0, played: 0, skipped: 0,
    stop: () => {
      socket.close();
      context.close();
      window.ringsideListen = null;
      const button = listenButton(key);
      if (button) button.textContent = LISTEN;
    },
  };
  window.ringsideListen = stats;
  listenButton(key).textContent = STOP_LISTENING;
  player.port.onmessage = (event) => { stats.played = event.data.played; stats.skipped = event.data.skipped; };
  socket.onmessage = (event) => {
    const samples = new Int16Array(event.data);
    const chunk = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) chunk[i] = samples[i] / 32768;
    player.port.postMessage(chunk, [chunk.buffer]);
    stats.messages += 1;
    stats.frames += samples.length / 2;
  };
  socket.onclose = () => { if (window.ringsideListen === stats) stats.stop(); };
}

setInterval(() => {
  for (const tick of document.querySelectorAll(".tick")) tick.textContent = ticking(tick.dataset.since);
}, 1000);

// Live updates from the agent: calls starting, answered, ending, switched; `logged` once an ended call is in the call log, and
// `voicemail` when the provider's count changed. The call log reloads itself only on its
// first page, and not under a playing recording or an open dialog.
function followLiveEvents() {
  const source = new EventSource("/api/live/events");
  source.onmessage = (message) => {
    const { type } = JSON.parse(message.data);
    const page = currentPage();
    if (page === "glance") loadGlance().catch((error) => notice(error.message));
    const busy = document.querySelector("dialog[open]") || [...document.querySelectorAll("audio")].some((a) => !a.paused);
    if (type === "logged" && page === "calls" && state.offset === 0 && !busy) loadCalls().catch((error) => notice(error.message));
  };
}

// ---- Phonebook ---------------------------------------------------------------------------
async function loadPhonebook() {
  const entries = await api("GET", "/phonebook");
  const filter = $("#phonebook-search").value.trim().toLowerCase();
  const body = $("#phonebook-table tbody");
  body.replaceChildren();
  for (const entry of entries) {
    const text = `${entry.number} ${entry.user_name || ""} ${entry.network_name || ""}`.toLowerCase();
    if (filter && !text.includes(filter)) continue;
    body.append(el("tr", {},
      el("td", { textContent: entry.number }),
      el("td", { className: "who", textContent: entry.user_name || "" }),
      el("td", { textContent: entry.network_name || "" }),
      el("td", { textContent: entry.calls }),
      el("td", { textContent: when(entry.last_seen) }),
      el("td", { className: "actions" },
        el("button", { className: "plain", textContent: "Rename", onclick: guarded(() => nameNumber(entry.number, entry.user_name || entry.network_name || "")) }),
        " ",
        el("button", { className: "danger", textContent: "Delete", onclick: guarded(async () => {
          const sure = await ask({ title: `Remove ${entry.number} from the phonebook?`, message: "Its calls stay in the log.", confirm: "Remove", danger: true });
          if (sure) { await api("DELETE", `/phonebook/${encodeURIComponent(entry.number)}`); await loadPhonebook(); }
        }) })),
    ));
  }
}

// ---- Filters -----------------------------------------------------------------------------
async function loadFilters() {
  const filters = await api("GET", "/filters");
  const list = $("#filter-list");
  list.replaceChildren();
  if (filters.length === 0) list.append(el("li", { className: "empty", textContent: "No filters: every call rings." }));
  for (const filter of filters) {
    const move = (position) => guarded(async () => { await api("POST", `/filters/${filter.id}/move`, { position }); await loadFilters(); });
    list.append(el("li", { dataset: { id: filter.id } },
      el("span", { className: "rule", textContent: `${filter.action} ${filter.field} ${filter.pattern}` }),
      el("button", { className: "plain", textContent: "Edit", onclick: guarded(() => editFilter(filter)) }),
      el("button", { className: "plain", textContent: "↑", title: "Move up", disabled: filter.position === 1, onclick: move(filter.position - 1) }),
      el("button", { className: "plain", textContent: "↓", title: "Move down", disabled: filter.position === filters.length, onclick: move(filter.position + 1) }),
      el("button", { className: "danger", textContent: "Delete", onclick: guarded(async () => { await api("DELETE", `/filters/${filter.id}`); await loadFilters(); }) }),
    ));
  }
}

async function editFilter(filter) {
  const answer = await ask({
    title: `Edit filter ${filter.position}`,
    fields: [
      { name: "action", label: "Action", value: filter.action, options: ["block", "allow", "record", "no-record"] },
      { name: "field", label: "Matches the caller's", value: filter.field, options: ["number", "name"] },
      { name: "pattern", label: "Pattern (a number, a prefix with *, *, anonymous)", value: filter.pattern },
    ],
  });
  if (!answer) return;
  try {
    await api("PUT", `/filters/${filter.id}`, answer);
    $("#filter-error").textContent = "";
  } catch (error) {
    $("#filter-error").textContent = error.message;
  }
  await loadFilters();
}

// ---- Settings ----------------------------------------------------------------------------
async function loadSettings() {
  const settings = await api("GET", "/settings");
  const form = $("#settings-form");
  form.record_by_default.value = settings.record_by_default;
  form.block_response.value = settings.block_response;
  form.courtesy_beeps.value = settings.courtesy_beeps;
  for (const key of ["retention_days", "retention_megabytes", "min_free_megabytes"]) form[key].value = settings[key];
  form.announce_secret.placeholder = settings.announce_secret ? "set (type to change)" : "none";
  $("#remove-secret").hidden = !settings.announce_secret;
}

// ---- Wiring ------------------------------------------------------------------------------
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

// "Log out" appears when the console asks for a password; live events come when the agent
// is behind the console (a console over a data directory alone has none).
async function start() {
  const session = await api("GET", "/session");
  const button = $("#logout");
  button.hidden = !session.login_required;
  button.onclick = guarded(async () => { await api("POST", "/logout"); location.assign("/login"); });
  if (session.live) followLiveEvents();
}

$("#call-search").addEventListener("submit", guarded((event) => {
  event.preventDefault();
  state.query = Object.fromEntries(new FormData(event.target));
  state.offset = 0;
  return loadCalls();
}));
$("#prev-page").onclick = guarded(() => { state.offset = Math.max(0, state.offset - PAGE_SIZE); return loadCalls(); });
$("#next-page").onclick = guarded(() => { state.offset += PAGE_SIZE; return loadCalls(); });
$("#phonebook-search").addEventListener("input", guarded(loadPhonebook));
$("#phonebook-import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const response = await fetch("/api/phonebook.csv", { method: "POST", headers: { "X-Ringside": "1", "Content-Type": "text/csv" }, body: await file.text() });
  const result = await response.json();
  $("#phonebook-status").textContent = response.ok ? `Imported ${result.imported} ${result.imported === 1 ? "name" : "names"}.` : result.error;
  event.target.value = "";
  await loadPhonebook();
});
$("#phonebook-add").addEventListener("submit", guarded(async (event) => {
  event.preventDefault();
  const form = event.target;
  await api("PUT", `/phonebook/${encodeURIComponent(form.number.value.trim())}`, { name: form.name.value });
  form.reset();
  await loadPhonebook();
}));
$("#filter-add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/filters", { pattern: form.pattern.value, field: form.field.value, action: form.action.value });
    $("#filter-error").textContent = "";
    form.pattern.value = "";
  } catch (error) {
    $("#filter-error").textContent = error.message;
  }
  await loadFilters();
});
$("#filter-test").addEventListener("submit", guarded(async (event) => {
  event.preventDefault();
  const form = event.target;
  const verdict = await api("POST", "/filters/test", { number: form.number.value, name: form.name.value || null });
  const rule = (id) => {
    const item = document.querySelector(`#filter-list li[data-id="${id}"]`);
    return item ? item.querySelector(".rule").textContent : "";
  };
  const ring = verdict.block_position
    ? `${verdict.blocked ? "Blocked" : "Rings"} — filter ${verdict.block_position}: ${rule(verdict.block_filter)}.`
    : "Rings — no allow or block filter matches.";
  const record = verdict.record_position
    ? `${verdict.recorded ? "Recorded" : "Not recorded"} — filter ${verdict.record_position}: ${rule(verdict.record_filter)}.`
    : `${verdict.recorded ? "Recorded" : "Not recorded"} — no record filter matches, so the setting decides.`;
  $("#filter-verdict").textContent = `${ring} ${record}`;
  for (const item of document.querySelectorAll("#filter-list li[data-id]")) {
    item.classList.toggle("decides", [String(verdict.block_filter), String(verdict.record_filter)].includes(item.dataset.id));
  }
}));
$("#settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    await api("PUT", "/settings/record_by_default", { value: form.record_by_default.value });
    await api("PUT", "/settings/block_response", { value: form.block_response.value });
    await api("PUT", "/settings/courtesy_beeps", { value: form.courtesy_beeps.value });
    for (const key of ["retention_days", "retention_megabytes", "min_free_megabytes"]) {
      await api("PUT", `/settings/${key}`, { value: form[key].value });
    }
    if (form.announce_secret.value) await api("PUT", "/settings/announce_secret", { value: form.announce_secret.value });
    form.announce_secret.value = "";
    $("#settings-saved").textContent = "Saved.";
  } catch (error) {
    $("#settings-saved").textContent = error.message;
  }
  await loadSettings();
});
$("#remove-secret").addEventListener("click", guarded(async () => {
  const sure = await ask({
    title: "Remove the announcement secret?", message: "Announcements go out unsigned; desktops that require a secret ignore them.",
    confirm: "Remove", danger: true,
  });
  if (!sure) return;
  await api("PUT", "/settings/announce_secret", { value: "" });
  $("#settings-saved").textContent = "Secret removed.";
  await loadSettings();
}));
window.addEventListener("hashchange", refresh);
refresh();
start().catch((error) => notice(error.message));
