// Ringside's "Listen live" player: an AudioWorklet that plays the stereo chunks the page hands
// it (Float32, interleaved left/right). It starts, and starts again after running dry, once
// 40 ms are waiting, so that small irregularities in arrival do not break the sound up; in
// between it plays silence. When more than 100 ms wait (a burst at the start, a stall), the
// oldest audio is skipped, so that the delay never settles above that.
const PREBUFFER_FRAMES = 320;
const MAX_WAITING_FRAMES = 800;

class RingsidePlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.waiting = 0;
    this.playing = false;
    this.played = 0;
    this.skipped = 0;
    this.port.onmessage = (event) => {
      this.queue.push(event.data);
      this.waiting += event.data.length / 2;
      while (this.waiting > MAX_WAITING_FRAMES && this.queue.length > 1) {
        const left = (this.queue.shift().length - this.offset) / 2;
        this.offset = 0;
        this.waiting -= left;
        this.skipped += left;
      }
    };
  }

  process(_inputs, outputs) {
    const [left, right] = outputs[0];
    if (!this.playing && this.waiting >= PREBUFFER_FRAMES) this.playing = true;
    for (let i = 0; i < left.length; i++) {
      const chunk = this.playing ? this.queue[0] : undefined;
      if (!chunk) {
        this.playing = false;
        left[i] = 0;
        if (right) right[i] = 0;
        continue;
      }
      left[i] = chunk[this.offset];
      if (right) right[i] = chunk[this.offset + 1];
      this.offset += 2;
      this.played += 1;
      this.waiting -= 1;
      if (this.offset >= chunk.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    this.port.postMessage({ played: this.played, skipped: this.skipped });
    return true;
  }
}

registerProcessor("ringside-player", RingsidePlayer);
