// The call log: search, paging, players, and naming or blocking a caller from their row.
import { $, api, ask, badge, el, guarded, minutes, numberOrWhy, when, who } from "./common.js";
import { blockNumber, nameNumber } from "./callers.js";

const PAGE_SIZE = 25;
const state = { offset: 0, query: {} };

function length(call) {
  if (!call.answered_at || !call.ended_at) return "";
  return minutes(Math.round((new Date(call.ended_at) - new Date(call.answered_at)) / 1000));
}

// Line quality from the call's RTP counters: packets lost per direction, key presses
// (telephone-events) and stray packets that were not the call's audio.
function quality(call) {
  if (!call.quality) return "";
  const legs = [["caller", call.quality.remote], ["phone", call.quality.phone]];
  const parts = legs
    .filter(([, leg]) => leg && leg.packets > 0)
    .map(([side, leg]) => `${side} ${(100 * leg.lost / (leg.packets + leg.lost)).toFixed(1)}% lost`
      + (leg.events > 0 ? ` (${leg.events} key-press packets)` : ""));
  if (call.quality.stray_packets > 0) parts.push(`${call.quality.stray_packets} stray packets ignored`);
  return parts.join(" · ");
}

// How an answer was known when its 200 OK was not seen (a lost packet, a capture started
// late): the call log's `answered_by`.
const ANSWER_EVIDENCE = {
  "ack-for-2xx": "200 OK not seen: its ACK was",
  "media-both-ways": "200 OK not seen: audio went both ways",
  "bye-after-ack": "200 OK not seen: ACK, then a hang-up",
};

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

function row(call) {
  const actions = el("td", { className: "actions" });
  if (call.number) {
    const name = guarded(async () => { if (await nameNumber(call.number, call.display || call.name || "")) await loadCalls(); });
    actions.append(el("button", { className: "plain", textContent: "Name…", title: "Add to the phonebook", onclick: name }));
    if (!call.blocked_by) {
      actions.append(" ", el("button", { className: "danger", textContent: "Block", title: "Block this number", onclick: guarded(() => blockNumber(call.number)) }));
    }
  }
  const outcome = el("td", {}, badge(call.disposition));
  if (call.blocked_by) outcome.append(el("div", { className: "meta", textContent: call.blocked_by }));
  const evidence = ANSWER_EVIDENCE[call.answered_by];
  if (evidence) outcome.append(el("div", { className: "meta", textContent: evidence, title: `answered_by: ${call.answered_by}` }));
  return el("tr", { dataset: { id: call.id } },
    el("td", { textContent: when(call.started_at) }),
    el("td", {}, el("div", { className: "who", textContent: `${call.direction === "outbound" ? "→ " : ""}${who(call)}` }),
      el("div", { className: "meta", textContent: `caller-ID: ${call.caller_id_source}`, title: call.caller_id_header }),
      el("div", { className: "meta", textContent: `direction: ${call.direction_source || "not recorded"}`, title: "How Ringside knew which way the call went" })),
    el("td", { textContent: numberOrWhy(call) }),
    outcome,
    el("td", {}, length(call), el("div", { className: "meta", textContent: quality(call) })),
    el("td", {}, player(call), el("div", { className: "meta", textContent: [call.recording_stopped, call.gaps_skipped > 0 ? `${call.gaps_skipped} long silences skipped` : ""].filter(Boolean).join(" · ") })),
    actions,
  );
}

// A day picked in the browser's time zone, as the call log's UTC time of its first moment
// (`days` later for the end of a range: "until Nov 8" takes in all of Nov 8).
function dayStart(date, days = 0) {
  if (!date) return "";
  const start = new Date(`${date}T00:00:00`);
  start.setDate(start.getDate() + days);
  return `${start.toISOString().slice(0, 19)}.000000Z`;
}

// A notice above the call log while the data disk is below the free-space floor.
async function showRecordingSpace() {
  const space = await api("GET", "/recordings/space");
  let notice = $("#recording-space");
  if (!notice) {
    notice = el("p", { id: "recording-space", className: "notice error" });
    $("#call-table").before(notice);
  }
  notice.hidden = space.recording;
  notice.textContent = space.recording ? "" : `Calls are not being recorded: ${space.free_megabytes} MB free on the data disk, below the floor of ${space.floor_megabytes} MB. They still ring and are logged.`;
}

export async function loadCalls() {
  await showRecordingSpace();
  const query = { ...state.query, since: dayStart(state.query.since), until: dayStart(state.query.until, 1) };
  const params = new URLSearchParams({ ...query, limit: PAGE_SIZE, offset: state.offset });
  for (const [key, value] of [...params]) if (!value) params.delete(key);
  const calls = await api("GET", `/calls?${params}`);
  const body = $("#call-table tbody");
  body.replaceChildren(...calls.map(row));
  if (calls.length === 0) body.append(el("tr", {}, el("td", { colSpan: 7, className: "empty", textContent: "No calls." })));
  $("#page-label").textContent = `${state.offset + 1}–${state.offset + calls.length}`;
  $("#prev-page").disabled = state.offset === 0;
  $("#next-page").disabled = calls.length < PAGE_SIZE;
}

// Whether the newest calls are on screen (where a call just logged would appear).
export const onFirstPage = () => state.offset === 0;

export function setUpCalls() {
  $("#call-search").addEventListener("submit", guarded((event) => {
    event.preventDefault();
    state.query = Object.fromEntries(new FormData(event.target));
    state.offset = 0;
    return loadCalls();
  }));
  $("#prev-page").onclick = guarded(() => { state.offset = Math.max(0, state.offset - PAGE_SIZE); return loadCalls(); });
  $("#next-page").onclick = guarded(() => { state.offset += PAGE_SIZE; return loadCalls(); });
}
