//! The stereo mixer: both directions of a call on one timeline, remote party left, the
//! local phone right.
//!
//! Audio is written at the frame its [`crate::playout::Playout`] placed it; frames are held
//! for [`LATENCY`] so that late and reordered packets still find their slot, then become
//! ready to hand out, in order. Gaps stay silent up to [`MAX_GAP`]; a longer one (a long
//! hold, or a capture whose clock leaps ahead) is skipped, leaving a [`SKIPPED_GAP_PAUSE`],
//! and counted: a recording is bounded by the audio received, never by how far apart two
//! packets claim to be. The window still open to late packets never exceeds [`MAX_WINDOW`]
//! frames (32 KiB), and the ready frames before it are handed out or discarded in chunks
//! ([`StereoMixer::take_ready`], [`StereoMixer::discard_ready`]), which bounds a call's
//! memory.
//!
//! Ready frames stay where they were mixed, in one buffer with the window: closing the
//! window moves no audio, and a chunk as long as the window behind it is handed out as the
//! buffer itself (only the window is copied into a new one). Copying every frame out of the
//! window into a chunk was the largest single cost of recording 1,000 calls.

/// Which side of the stereo picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Left: what the remote party says (audio flowing toward the phone).
    Remote = 0,
    /// Right: what the local phone says (audio flowing from the phone).
    Phone = 1,
}

/// One stereo frame: `[left, right]`.
pub type Frame = [i16; 2];

/// How long audio waits for late packets before it is written out: 250 ms at 8 kHz.
pub const LATENCY: i64 = 2000;
/// The most frames held open at once: one second at 8 kHz.
pub const MAX_WINDOW: i64 = 8000;
/// The longest silence written into a recording: 5 s. Real pauses (a short hold, silence
/// suppression) are kept as they were; anything longer is skipped.
pub const MAX_GAP: i64 = 5 * 8000;
/// What is left of a skipped gap: one second of silence, so the cut is heard as a pause.
pub const SKIPPED_GAP_PAUSE: i64 = 8000;

/// The mixing buffer of one call.
///
/// `frames` runs from timeline frame `base` on: `frames[..taken]` were handed out already,
/// `frames[taken..ready]` are ready to hand out, and `frames[ready..]` are the window, still
/// open to late packets.
#[derive(Debug, Clone, Default)]
pub struct StereoMixer {
    /// Timeline frame of `frames[0]`.
    base: i64,
    frames: Vec<Frame>,
    taken: usize,
    ready: usize,
    /// Silences longer than [`MAX_GAP`] cut down to [`SKIPPED_GAP_PAUSE`].
    gaps_skipped: u64,
}

impl StereoMixer {
    /// Writes one channel's audio starting at `position`: each byte of `encoded` is one
    /// sample, made linear by `decode` (a G.711 table lookup). Samples before the window are
    /// too late and dropped; the window first closes on its oldest frames if it would grow
    /// past [`MAX_WINDOW`], and on everything it holds if `position` lies more than
    /// [`MAX_GAP`] beyond it (the gap is skipped). Returns how many samples were too late.
    pub fn write(
        &mut self,
        channel: Channel,
        position: i64,
        encoded: &[u8],
        decode: impl Fn(u8) -> i16,
    ) -> usize {
        let end = position + encoded.len() as i64;
        if position - self.written_end() > MAX_GAP {
            self.drain_to(position);
        }
        if end - self.written_to() > MAX_WINDOW {
            self.drain_to(end - MAX_WINDOW);
        }
        let late = (self.written_to() - position).clamp(0, encoded.len() as i64) as usize;
        if late == encoded.len() {
            return late;
        }
        let first = (position + late as i64 - self.base) as usize;
        if self.frames.len() < first {
            self.frames.resize(first, [0, 0]);
        }
        // Samples over frames already in the buffer fill in their channel; the rest become
        // new frames, silent on the other channel (written once, not zeroed first). Plain
        // slices zipped with plain bytes: loops the compiler keeps tight.
        let (over, beyond) =
            encoded[late..].split_at((self.frames.len() - first).min(encoded.len() - late));
        match channel {
            Channel::Remote => self.write_side::<0>(first, over, beyond, decode),
            Channel::Phone => self.write_side::<1>(first, over, beyond, decode),
        }
        late
    }

    /// Writes one channel (`SIDE` of each frame): `over` into the frames from `first` on,
    /// `beyond` as new frames. The side is a constant, so that it is not chosen again for
    /// every sample.
    fn write_side<const SIDE: usize>(
        &mut self,
        first: usize,
        over: &[u8],
        beyond: &[u8],
        decode: impl Fn(u8) -> i16,
    ) {
        for (frame, &byte) in self.frames[first..].iter_mut().zip(over) {
            frame[SIDE] = decode(byte);
        }
        self.frames.extend(beyond.iter().map(|&byte| {
            let mut frame = [0, 0];
            frame[SIDE] = decode(byte);
            frame
        }));
    }

    /// Closes the window on every frame before `until`, which become ready: silence where
    /// nothing was written, but only a [`SKIPPED_GAP_PAUSE`] for a silence beyond what is
    /// held longer than [`MAX_GAP`].
    pub fn drain_to(&mut self, until: i64) {
        let count = until - self.written_to();
        if count <= 0 {
            return;
        }
        let held = (count as usize).min(self.held());
        self.ready += held;
        let mut silence = count - held as i64;
        if silence == 0 {
            return;
        }
        if silence > MAX_GAP {
            self.gaps_skipped += 1;
            silence = SKIPPED_GAP_PAUSE;
        }
        // The window is empty: the silence is ready at once, and the timeline goes on at
        // `until` whether or not the gap was cut.
        self.frames
            .resize(self.frames.len() + silence as usize, [0, 0]);
        self.ready = self.frames.len();
        self.base = until - self.ready as i64;
    }

    /// Closes the window on everything written so far (end of call).
    pub fn drain_all(&mut self) {
        self.drain_to(self.written_end());
    }

    /// Frames ready to be handed out.
    #[must_use]
    pub fn ready(&self) -> usize {
        self.ready - self.taken
    }

    /// The ready frames in whole chunks of `chunk_frames` (all of them when `chunk_frames` is
    /// 0), once there is at least one; the rest stay ready. Whole chunks keep a recording's
    /// writes the same size, so that they fall on the same boundaries of its file. When the
    /// chunks are at least as many frames as those behind them, the buffer itself is handed
    /// out and those copied into a new one; otherwise the chunks are copied out.
    pub fn take_ready(&mut self, chunk_frames: usize) -> Option<Vec<Frame>> {
        let ready = self.ready();
        let count = match chunk_frames {
            0 => ready,
            _ => ready - ready % chunk_frames,
        };
        if count == 0 {
            return None;
        }
        let rest = self.frames.len() - count;
        if self.taken == 0 && count >= rest {
            // Room for the next chunk as long as this one, with some to spare for jitter.
            let room = chunk_frames + chunk_frames / 8 + rest;
            let mut behind = Vec::with_capacity(room);
            behind.extend_from_slice(&self.frames[count..]);
            self.frames.truncate(count);
            let chunk = std::mem::replace(&mut self.frames, behind);
            self.forget_front(count);
            return Some(chunk);
        }
        let chunk = self.frames[self.taken..self.taken + count].to_vec();
        self.consume(count);
        Some(chunk)
    }

    /// Drops the ready frames (a call not being recorded).
    pub fn discard_ready(&mut self) {
        self.consume(self.ready());
    }

    /// Marks `count` more ready frames as gone. Moving the frames after them to the front
    /// costs what the window holds: done once the frames gone are at least as many, so each
    /// frame moves at most once on average.
    fn consume(&mut self, count: usize) {
        self.taken += count;
        if self.taken >= self.held() {
            let gone = self.taken;
            self.frames.drain(..gone);
            // A long silence made ready at once grew the buffer far past what a window and a
            // chunk need: give that back rather than keep it for the rest of the call.
            if self.frames.capacity() > 4 * MAX_WINDOW as usize {
                self.frames.shrink_to(MAX_WINDOW as usize);
            }
            self.forget_front(gone);
        }
    }

    /// The first `count` frames, all handed out or dropped, are gone from `frames`.
    fn forget_front(&mut self, count: usize) {
        self.base += count as i64;
        self.ready -= count;
        self.taken = 0;
    }

    /// The timeline frame just after the last one written.
    fn written_end(&self) -> i64 {
        self.base + self.frames.len() as i64
    }

    /// Silences skipped so far because they were longer than [`MAX_GAP`].
    #[must_use]
    pub fn gaps_skipped(&self) -> u64 {
        self.gaps_skipped
    }

    /// The timeline frame where the window starts: everything before it is ready or handed
    /// out.
    #[must_use]
    pub fn written_to(&self) -> i64 {
        self.base + self.ready as i64
    }

    /// Frames held in the window, written but not yet ready.
    #[must_use]
    pub fn held(&self) -> usize {
        self.frames.len() - self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Everything ready, handed out (what the tests look at).
    fn take_all(mixer: &mut StereoMixer, out: &mut Vec<Frame>) {
        out.extend(mixer.take_ready(0).unwrap_or_default());
    }

    #[test]
    fn mixes_both_channels_in_timeline_order() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Phone, 4, &[7, 7], i16::from);
        mixer.write(Channel::Remote, 0, &[1, 2, 3], i16::from);
        mixer.drain_all();
        take_all(&mut mixer, &mut out);
        assert_eq!(out, vec![[1, 0], [2, 0], [3, 0], [0, 0], [0, 7], [0, 7]]);
    }

    #[test]
    fn late_samples_are_dropped_and_counted() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Remote, 0, &[1; 10], i16::from);
        mixer.drain_to(5);
        assert_eq!(mixer.write(Channel::Phone, 3, &[9; 4], i16::from), 2);
        mixer.drain_all();
        take_all(&mut mixer, &mut out);
        assert_eq!(out[5], [1, 9]);
        assert_eq!(out[4], [1, 0]);
    }

    #[test]
    fn the_window_stays_bounded() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        for i in 0..100 {
            mixer.write(Channel::Remote, i * 160, &[1; 160], i16::from);
            assert!(mixer.held() as i64 <= MAX_WINDOW);
            out.extend(mixer.take_ready(4096).unwrap_or_default());
        }
        assert_eq!(
            out.len() as i64 + mixer.ready() as i64 + mixer.held() as i64,
            100 * 160
        );
    }

    #[test]
    fn a_gap_up_to_max_gap_stays_silent_in_place() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Remote, 0, &[1; 160], i16::from);
        mixer.write(Channel::Remote, 160 + MAX_GAP, &[2; 160], i16::from);
        mixer.drain_all();
        take_all(&mut mixer, &mut out);
        assert_eq!(out.len() as i64, 320 + MAX_GAP);
        assert_eq!(out[160 + MAX_GAP as usize], [2, 0]);
        assert_eq!(mixer.gaps_skipped(), 0);
    }

    #[test]
    fn a_gap_beyond_max_gap_is_skipped_leaving_a_pause() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        mixer.write(Channel::Remote, 0, &[1; 160], i16::from);
        // A packet claiming to come three days later.
        let far = 3 * 86_400 * 8000;
        mixer.write(Channel::Phone, far, &[2; 160], i16::from);
        mixer.drain_to(far + 4000);
        take_all(&mut mixer, &mut out);
        assert_eq!(out.len() as i64, 160 + SKIPPED_GAP_PAUSE + 160 + 3840);
        assert_eq!(out[(160 + SKIPPED_GAP_PAUSE) as usize], [0, 2]);
        assert_eq!(mixer.gaps_skipped(), 1);
        assert_eq!(mixer.written_to(), far + 4000);
        // Draining far ahead with nothing written skips that gap too.
        mixer.drain_to(2 * far);
        take_all(&mut mixer, &mut out);
        assert_eq!(mixer.gaps_skipped(), 2);
        assert!(out.len() < 4 * 8000, "{} frames", out.len());
        // And the timeline goes on where the drain left it.
        mixer.write(Channel::Remote, 2 * far, &[3; 160], i16::from);
        mixer.drain_all();
        let last = mixer.take_ready(0).expect("the packet after the gap");
        assert_eq!(last, vec![[3, 0]; 160]);
    }

    /// Packets of both channels, each sample its own value, handed out as `take` says:
    /// every sample must come out at its frame of the timeline, whichever way the chunks
    /// leave (the buffer itself or a copy) and however often the window moves.
    fn every_sample_in_place(take: impl Fn(&mut StereoMixer, i64) -> Option<Vec<Frame>>) {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        let value = |frame: i64, channel: i64| ((frame * 2 + channel) % 251) as u8;
        for packet in 0..400 {
            let at = packet * 160;
            let remote: Vec<u8> = (at..at + 160).map(|f| value(f, 0)).collect();
            let phone: Vec<u8> = (at..at + 160).map(|f| value(f, 1)).collect();
            mixer.write(Channel::Remote, at, &remote, i16::from);
            mixer.write(Channel::Phone, at, &phone, i16::from);
            mixer.drain_to(at + 160 - LATENCY);
            out.extend(take(&mut mixer, packet).unwrap_or_default());
        }
        mixer.drain_all();
        take_all(&mut mixer, &mut out);
        assert_eq!(out.len(), 400 * 160);
        for (frame, got) in out.iter().enumerate() {
            let frame = frame as i64;
            let want = [i16::from(value(frame, 0)), i16::from(value(frame, 1))];
            assert_eq!(*got, want, "frame {frame}");
        }
    }

    #[test]
    fn recording_chunks_hand_out_every_sample_in_place() {
        every_sample_in_place(|mixer, _| mixer.take_ready(4096));
    }

    #[test]
    fn live_chunks_hand_out_every_sample_in_place() {
        every_sample_in_place(|mixer, _| mixer.take_ready(160));
    }

    #[test]
    fn chunks_of_changing_sizes_hand_out_every_sample_in_place() {
        // Someone starts and stops listening: 20 ms and 512 ms chunks alternate.
        every_sample_in_place(|mixer, packet| {
            mixer.take_ready(if (packet / 30) % 2 == 0 { 160 } else { 4096 })
        });
    }

    #[test]
    fn discarded_frames_leave_the_buffer_bounded() {
        let mut mixer = StereoMixer::default();
        for i in 0..10_000 {
            mixer.write(Channel::Remote, i * 160, &[1; 160], i16::from);
            mixer.drain_to(i * 160 + 160 - LATENCY);
            mixer.discard_ready();
            assert!(mixer.frames.len() <= 2 * (LATENCY as usize + 160), "{i}");
        }
        assert_eq!(mixer.ready(), 0);
        assert_eq!(mixer.written_to(), 10_000 * 160 - LATENCY);
    }

    /// Regression: a pause of both sides just short of [`MAX_GAP`] is made ready as one long
    /// silence; a call not being recorded discarded it but kept the buffer it had grown to
    /// (70,000 frames, 280 KB, seven times its usual size) for the rest of the call.
    #[test]
    fn a_discarded_long_silence_kept_its_buffer_for_the_rest_of_the_call() {
        let mut mixer = StereoMixer::default();
        for i in 0..2000 {
            // Nothing from either side from 20 s to 24.9 s.
            if (1000..1245).contains(&i) {
                continue;
            }
            mixer.write(Channel::Remote, i * 160, &[1; 160], i16::from);
            mixer.drain_to(i * 160 + 160 - LATENCY);
            if mixer.ready() >= 4000 {
                mixer.discard_ready();
            }
            let (capacity, len) = (mixer.frames.capacity(), mixer.frames.len());
            assert!(
                capacity <= 4 * MAX_WINDOW as usize,
                "{i}: {capacity} for {len}"
            );
        }
        assert_eq!(mixer.gaps_skipped(), 0);
    }

    #[test]
    fn a_large_chunk_is_the_buffer_itself() {
        let mut mixer = StereoMixer::default();
        for i in 0..50 {
            mixer.write(Channel::Remote, i * 160, &[1; 160], i16::from);
        }
        mixer.drain_to(50 * 160 - LATENCY);
        let address = mixer.frames.as_ptr();
        let chunk = mixer.take_ready(2000).expect("6,000 frames are ready");
        assert_eq!(chunk.len(), 6000, "three whole chunks");
        assert_eq!(chunk.as_ptr(), address, "handed out without a copy");
        assert_eq!(mixer.held(), LATENCY as usize);
        assert_eq!(mixer.written_to(), 6000);
    }

    #[test]
    fn chunks_are_whole_and_the_rest_stays_ready() {
        let mut mixer = StereoMixer::default();
        let mut out = Vec::new();
        for i in 0..60 {
            mixer.write(Channel::Remote, i * 160, &[i as u8; 160], i16::from);
        }
        mixer.drain_to(60 * 160 - LATENCY);
        assert!(
            mixer.take_ready(8192).is_none(),
            "7,600 frames: no whole chunk"
        );
        mixer.drain_to(60 * 160);
        let chunk = mixer.take_ready(4096).expect("9,600 frames are ready");
        assert_eq!(chunk.len(), 8192, "two whole chunks");
        assert_eq!(mixer.ready(), 9600 - 8192, "the rest stays ready");
        out.extend(chunk);
        take_all(&mut mixer, &mut out);
        let want: Vec<Frame> = (0..60).flat_map(|i| [[i, 0]; 160]).collect();
        assert_eq!(out, want, "every frame once, in order");
    }

    /// What the mixer promises, kept the plain way: the window as a map from timeline frame
    /// to frame, and every frame that ever became ready, in order.
    #[derive(Default)]
    struct Model {
        /// Where the window starts ([`StereoMixer::written_to`]).
        window_start: i64,
        /// Just after the last frame written, or `window_start` if later.
        window_end: i64,
        window: BTreeMap<i64, Frame>,
        /// Every frame made ready so far, handed out or not.
        ready: Vec<Frame>,
        gaps_skipped: u64,
    }

    impl Model {
        /// As documented: closes the window on the frames before `until`, then silence, a
        /// silence longer than [`MAX_GAP`] cut to [`SKIPPED_GAP_PAUSE`].
        fn drain_to(&mut self, until: i64) {
            if until <= self.window_start {
                return;
            }
            for frame in self.window_start..until.min(self.window_end) {
                let value = self.window.remove(&frame).unwrap_or_default();
                self.ready.push(value);
            }
            let mut silence = until - self.window_end;
            if silence > 0 {
                if silence > MAX_GAP {
                    self.gaps_skipped += 1;
                    silence = SKIPPED_GAP_PAUSE;
                }
                self.ready
                    .resize(self.ready.len() + silence as usize, [0, 0]);
                self.window_end = until;
            }
            self.window_start = until;
        }

        /// As documented: a gap beyond [`MAX_GAP`] closes the window, which then moves on so as
        /// to hold no more than [`MAX_WINDOW`]; samples before it are late. Returns them.
        fn write(&mut self, channel: Channel, position: i64, samples: &[i16]) -> usize {
            let end = position + samples.len() as i64;
            if position - self.window_end > MAX_GAP {
                self.drain_to(position);
            }
            if end - self.window_start > MAX_WINDOW {
                self.drain_to(end - MAX_WINDOW);
            }
            let mut late = 0;
            for (at, &sample) in (position..).zip(samples) {
                if at < self.window_start {
                    late += 1;
                } else {
                    self.window.entry(at).or_default()[channel as usize] = sample;
                    self.window_end = self.window_end.max(at + 1);
                }
            }
            late
        }
    }

    /// One step of a caller. Positions are relative to the window, so that they stay near
    /// it: `Write`'s to where it starts, `Leap`'s to where it ends.
    #[derive(Debug, Clone)]
    enum Step {
        Write(Channel, i64, usize, u8),
        Leap(Channel, i64, usize, u8),
        DrainBy(i64),
        Take(usize),
        Discard,
    }

    fn step() -> impl Strategy<Value = Step> {
        let channel = prop_oneof![Just(Channel::Remote), Just(Channel::Phone)];
        let far = prop_oneof![
            MAX_GAP - 20..=MAX_GAP + 20,
            Just(3 * 86_400 * 8000_i64),
            Just(-1_000_000_000_000_i64),
        ];
        prop_oneof![
            12 => (channel.clone(), -500..=MAX_WINDOW + 500, 0..=400_usize, any::<u8>())
                .prop_map(|(c, at, len, seed)| Step::Write(c, at, len, seed)),
            1 => (channel, far.clone(), 0..=400_usize, any::<u8>())
                .prop_map(|(c, at, len, seed)| Step::Leap(c, at, len, seed)),
            3 => prop_oneof![4 => -100..=3000_i64, 1 => far].prop_map(Step::DrainBy),
            3 => prop_oneof![
                Just(0_usize), Just(1), Just(160), Just(4096), Just(8192), 0..20_000_usize
            ].prop_map(Step::Take),
            1 => Just(Step::Discard),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the caller writes (late, reordered, overlapping, past the window, across
        /// gaps short and long), drains, takes and discards: the frames handed out, with those
        /// discarded, are the model's timeline in order, each in its place, long gaps cut to a
        /// pause as documented; `write` counts exactly the samples before the window; the
        /// window never holds more than [`MAX_WINDOW`], and the buffer no more than two windows
        /// beyond the frames ready to take.
        #[test]
        fn take_and_discard_hand_out_the_models_timeline_with_bounded_buffers(
            steps in proptest::collection::vec(step(), 1..150)
        ) {
            let mut mixer = StereoMixer::default();
            let mut model = Model::default();
            // Frames of `model.ready` handed out or discarded so far.
            let mut gone = 0;
            let decode = |byte: u8| i16::from(byte) + 1;
            for step in &steps {
                match *step {
                    Step::Write(channel, at, len, seed) | Step::Leap(channel, at, len, seed) => {
                        let position = if matches!(step, Step::Write(..)) {
                            model.window_start + at
                        } else {
                            model.window_end + at
                        };
                        let encoded: Vec<u8> =
                            (0..len).map(|i| seed.wrapping_add((i * 7) as u8)).collect();
                        let samples: Vec<i16> = encoded.iter().map(|&b| decode(b)).collect();
                        let want = model.write(channel, position, &samples);
                        let late = mixer.write(channel, position, &encoded, decode);
                        prop_assert_eq!(late, want, "late samples at {}", position);
                        prop_assert!(mixer.held() as i64 <= MAX_WINDOW);
                        let before = (mixer.written_to() - position).clamp(0, len as i64);
                        prop_assert_eq!(late as i64, before, "the samples before the window");
                    }
                    Step::DrainBy(by) => {
                        let until = model.window_start + by;
                        model.drain_to(until);
                        mixer.drain_to(until);
                    }
                    Step::Take(chunk_frames) => {
                        let ready = model.ready.len() - gone;
                        let whole = match chunk_frames {
                            0 => ready,
                            _ => ready / chunk_frames * chunk_frames,
                        };
                        let chunk = mixer.take_ready(chunk_frames);
                        if whole == 0 {
                            prop_assert!(chunk.is_none());
                        } else {
                            let chunk = chunk.expect("enough frames are ready");
                            prop_assert!(
                                chunk == model.ready[gone..gone + whole],
                                "chunk after {}",
                                gone
                            );
                            gone += whole;
                        }
                    }
                    Step::Discard => {
                        prop_assert_eq!(mixer.ready(), model.ready.len() - gone);
                        mixer.discard_ready();
                        gone = model.ready.len();
                        prop_assert!(mixer.frames.len() as i64 <= 2 * MAX_WINDOW);
                        if mixer.taken == 0 {
                            // Moved to the front: no room kept from a long silence either.
                            prop_assert!(mixer.frames.capacity() as i64 <= 4 * MAX_WINDOW);
                        }
                    }
                }
                prop_assert_eq!(mixer.written_to(), model.window_start);
                prop_assert_eq!(mixer.held() as i64, model.window_end - model.window_start);
                prop_assert_eq!(mixer.ready(), model.ready.len() - gone);
                prop_assert_eq!(mixer.gaps_skipped(), model.gaps_skipped);
                // What was handed out but not yet dropped from the front is less than a
                // window (it is dropped once as long as the window behind it), so the buffer
                // holds at most two windows besides the frames ready: a caller taking or
                // discarding after each packet holds a bounded amount.
                prop_assert!(mixer.taken as i64 <= MAX_WINDOW);
                prop_assert!(mixer.frames.len() - mixer.ready() <= 2 * MAX_WINDOW as usize);
            }
            model.drain_to(model.window_end);
            mixer.drain_all();
            let rest = mixer.take_ready(0).unwrap_or_default();
            prop_assert!(rest == model.ready[gone..], "the rest after {}", gone);
            prop_assert_eq!((mixer.ready(), mixer.held()), (0, 0));
            prop_assert_eq!(mixer.written_to(), model.window_start);
        }
    }
}
