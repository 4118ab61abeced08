// At a glance: voicemail, calls in progress (ticking, recording switch, Listen live), the
// last calls.
import { $, api, badge, el, guarded, minutes, when, who } from "./common.js";
import { LISTEN, STOP_LISTENING, listenLive, listeningTo } from "./listen.js";

const ticking = (since) => minutes(Math.max(0, Math.round((Date.now() - new Date(since)) / 1000)));

function liveCard(call) {
  const toggle = el("button", {
    className: call.recording ? "danger" : "plain",
    textContent: call.recording ? "● Recording — stop" : "Record",
    onclick: guarded(() => api("POST", `/live/calls/${call.key}/recording`, { on: !call.recording })),
  });
  const listening = listeningTo(call.key);
  const listen = el("button", {
    className: "plain listen", textContent: listening ? STOP_LISTENING : LISTEN, onclick: guarded(() => listenLive(call.key)),
    disabled: !call.recording && !listening, title: call.recording ? "Hear the call in this browser" : "Only a call being recorded can be heard",
  });
  const since = call.answered_at || call.started_at;
  return el("li", { dataset: { key: call.key } },
    el("div", { className: "who", textContent: `${call.direction === "outbound" ? "→ " : ""}${who(call)}` }),
    el("div", { className: "meta", textContent: call.number || "withheld" }),
    el("div", { className: "meta" }, call.answered_at ? "talking " : "ringing ",
      el("span", { className: "tick", dataset: { since }, textContent: ticking(since) })),
    toggle, " ", listen);
}

export async function loadGlance() {
  const [live, calls, voicemail] = await Promise.all([api("GET", "/live/calls"), api("GET", "/calls?limit=12"), api("GET", "/voicemail")]);
  const box = $("#voicemail");
  box.hidden = !voicemail.waiting;
  const count = voicemail.new === 1 ? "1 new message" : voicemail.new > 1 ? `${voicemail.new} new messages` : "messages waiting";
  box.textContent = `✉ Voicemail: ${count}`;
  $("#live-calls").replaceChildren(...live.map(liveCard));
  if (!live.length) $("#live-calls").append(el("li", { className: "empty", textContent: "No call right now." }));
  $("#recent-calls").replaceChildren(...calls.filter((c) => c.disposition).map((call) => el("li", {},
    el("div", { className: "who", textContent: who(call) }),
    el("div", { className: "meta", textContent: `${call.number || "withheld"} · ${when(call.started_at)}` }),
    badge(call.disposition))));
}

export function setUpGlance() {
  setInterval(() => {
    for (const tick of document.querySelectorAll(".tick")) tick.textContent = ticking(tick.dataset.since);
  }, 1000);
}
