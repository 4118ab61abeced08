// Ringside's "Listen live" player: an AudioWorklet that plays the 20 ms stereo chunks the
// page hands it (Float32, interleaved left/right), silence when none is waiting.
class RingsidePlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0;
    this.played = 0;
    this.port.onmessage = (event) => this.queue.push(event.data);
  }

  process(_inputs, outputs) {
    const [left, right] = outputs[0];
    for (let i = 0; i < left.length; i++) {
      const chunk = this.queue[0];
      if (!chunk) {
        left[i] = 0;
        if (right) right[i] = 0;
        continue;
      }
      left[i] = chunk[this.offset];
      if (right) right[i] = chunk[this.offset + 1];
      this.offset += 2;
      this.played += 1;
      if (this.offset >= chunk.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    this.port.postMessage({ played: this.played, waiting: this.queue.length });
    return true;
  }
}

registerProcessor("ringside-player", RingsidePlayer);
