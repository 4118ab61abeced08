// Listen live: a call's audio over a WebSocket, 20 ms at a time, into an AudioWorklet.
// `window.ringsideListen` counts what arrived, what played and what was skipped to keep the
// delay down (the browser tests read it).

export const LISTEN = "▶ Listen live";
export const STOP_LISTENING = "■ Stop listening";

const listenButton = (key) => document.querySelector(`#live-calls li[data-key="${key}"] button.listen`);

// Whether this page is listening to the call.
export const listeningTo = (key) => window.ringsideListen?.key === key;

// One call at a time: a click on the call being heard stops it, on another call switches.
export async function listenLive(key) {
  const current = window.ringsideListen;
  if (current) {
    current.stop();
    if (current.key === key) return;
  }
  const context = new AudioContext({ sampleRate: 8000 });
  await context.audioWorklet.addModule("/js/listen-worklet.js");
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
