//! Courtesy beeps: with the `courtesy_beeps` setting, the remote party of a recorded call
//! hears a short tone every so often, telling them the call is recorded. The beep replaces
//! the audio of the phone's own RTP packets on their way out (the phone's voice is silenced
//! for those 200 ms), so nothing is added to the stream and its timing stays the phone's.

use std::time::Duration;

use crate::g711;
use crate::sdp::Codec;
use crate::time::Timestamp;

/// The first beep comes this long after the answer.
pub const FIRST: Duration = Duration::from_secs(2);
/// Then one every this long.
pub const EVERY: Duration = Duration::from_secs(15);
/// How long a beep lasts.
pub const LENGTH: Duration = Duration::from_millis(200);
/// Its pitch.
pub const HERTZ: f64 = 1400.0;
/// Its level: a quarter of full scale (about -12 dBFS), audible over speech, not harsh.
const AMPLITUDE: f64 = 8192.0;

/// When one call's beeps sound.
#[derive(Debug, Clone, Copy, Default)]
pub struct Beeper {
    /// Samples of tone produced so far (the phase of the next one).
    produced: u64,
}

impl Beeper {
    /// Whether a packet of the phone's voice at `now` falls inside a beep, for a call
    /// answered at `answered_at`.
    #[must_use]
    pub fn due(&self, now: Timestamp, answered_at: Timestamp) -> bool {
        now.since(answered_at)
            .checked_sub(FIRST)
            .is_some_and(|into| into.as_micros() % EVERY.as_micros() < LENGTH.as_micros())
    }

    /// The next `samples` of tone, encoded for `codec` (G.711 only; `None` otherwise).
    pub fn tone(&mut self, codec: Codec, samples: usize) -> Option<Vec<u8>> {
        let encode = match codec {
            Codec::Pcmu => g711::encode_ulaw,
            Codec::Pcma => g711::encode_alaw,
            Codec::TelephoneEvent | Codec::ComfortNoise | Codec::Other => return None,
        };
        let step = 2.0 * std::f64::consts::PI * HERTZ / 8000.0;
        let start = self.produced;
        self.produced += samples as u64;
        Some(
            (start..start + samples as u64)
                .map(|n| encode((AMPLITUDE * (step * n as f64).sin()) as i16))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beeps_come_two_seconds_in_then_every_fifteen_for_200_ms() {
        let beeper = Beeper::default();
        let answered = Timestamp(10_000_000);
        let at = |ms: u64| Timestamp(answered.0 + ms * 1000);
        assert!(!beeper.due(at(1_990), answered));
        assert!(beeper.due(at(2_000), answered));
        assert!(beeper.due(at(2_180), answered));
        assert!(!beeper.due(at(2_200), answered));
        assert!(!beeper.due(at(16_900), answered));
        assert!(beeper.due(at(17_100), answered));
    }

    #[test]
    fn the_tone_is_g711_at_1400_hz() {
        let mut beeper = Beeper::default();
        let bytes = beeper.tone(Codec::Pcmu, 800).expect("PCMU");
        let samples: Vec<f64> = bytes
            .iter()
            .map(|&b| f64::from(g711::decode_ulaw(b)))
            .collect();
        let power = |hz: f64| {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, s) in samples.iter().enumerate() {
                let angle = 2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0;
                re += s * angle.cos();
                im += s * angle.sin();
            }
            re * re + im * im
        };
        assert!(power(1400.0) > 100.0 * power(1000.0));
        assert_eq!(beeper.tone(Codec::Other, 160), None);
        assert_eq!(beeper.tone(Codec::Pcma, 160).map(|b| b.len()), Some(160));
    }
}
