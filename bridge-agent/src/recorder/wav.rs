//! One recording's WAV file (stereo, 8 kHz, 16-bit PCM): audio appended with one system call
//! per chunk straight from the mixer's frames, the header's two sizes brought up to date in
//! place.
//!
//! hound wrote the audio before, and it still writes the header and reads the files: its
//! writer converts every sample into a buffer of its own and, to bring the header up to
//! date, seeks to each size and back (five system calls). At 1,000 calls recorded that was
//! a tenth of a replay's CPU. Here the frames' bytes are written as they lie in memory
//! (`[i16; 2]` little-endian is the WAV layout; a big-endian build swaps them first) and the
//! header with its sizes in one positioned write. A write error leaves the file as valid as its last
//! header update; [`super::repair_recordings`] mends what a crash leaves after that.

use std::fs::File;
use std::io::{self, Cursor, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use ringside_core::mixer::Frame;

use super::{create_file, SAMPLE_RATE};

/// Bytes of one stereo 16-bit frame.
const FRAME_BYTES: u64 = 4;

/// Silence written into gaps, a second at a time.
static SILENCE: [Frame; SAMPLE_RATE as usize] = [[0, 0]; SAMPLE_RATE as usize];

/// An open recording.
pub struct WavFile {
    file: File,
    /// The header, up to the first audio byte, as hound wrote it for no audio.
    header: Vec<u8>,
    /// Audio bytes written after the header.
    data_len: u64,
}

impl WavFile {
    /// Creates (or empties) the file, owner-only, and writes hound's header for no audio.
    pub fn create(path: &Path) -> io::Result<WavFile> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut header = Cursor::new(Vec::with_capacity(64));
        hound::WavWriter::new(&mut header, spec)
            .and_then(hound::WavWriter::finalize)
            .map_err(io::Error::other)?;
        let header = header.into_inner();
        let mut file = create_file(path)?;
        file.write_all(&header)?;
        Ok(WavFile {
            file,
            header,
            data_len: 0,
        })
    }

    /// Frames written so far.
    #[must_use]
    pub fn frames(&self) -> u64 {
        self.data_len / FRAME_BYTES
    }

    /// Appends frames. Refused (an error) past the 4 GiB a WAV's sizes can say: 37 hours.
    pub fn append(&mut self, frames: &[Frame]) -> io::Result<()> {
        let bytes = frames.len() as u64 * FRAME_BYTES;
        if self.header.len() as u64 + self.data_len + bytes > u64::from(u32::MAX) {
            return Err(io::Error::other(
                "the recording reached the 4 GiB a WAV can hold",
            ));
        }
        write_le(&mut self.file, frames)?;
        self.data_len += bytes;
        Ok(())
    }

    /// Appends `count` frames of silence.
    pub fn append_silence(&mut self, mut count: u64) -> io::Result<()> {
        while count > 0 {
            let part = count.min(SILENCE.len() as u64);
            self.append(&SILENCE[..part as usize])?;
            count -= part;
        }
        Ok(())
    }

    /// Writes the header again with the sizes of the audio so far (the RIFF size at byte 4,
    /// the data size in its last four bytes), in one system call. No `fsync`: the page cache
    /// keeps the file whole if the agent crashes; only the box losing power can lose more.
    pub fn update_header(&mut self) -> io::Result<()> {
        let len = self.header.len();
        let riff = (len as u64 - 8 + self.data_len) as u32;
        self.header[4..8].copy_from_slice(&riff.to_le_bytes());
        self.header[len - 4..].copy_from_slice(&(self.data_len as u32).to_le_bytes());
        self.file.write_all_at(&self.header, 0)
    }

    /// Brings the header up to date and closes the file.
    pub fn finalize(mut self) -> io::Result<()> {
        self.update_header()
    }
}

/// Writes frames as little-endian 16-bit samples, left then right.
#[cfg(target_endian = "little")]
fn write_le(file: &mut File, frames: &[Frame]) -> io::Result<()> {
    file.write_all(bytemuck::cast_slice(frames))
}

/// Writes frames as little-endian 16-bit samples, left then right.
#[cfg(target_endian = "big")]
fn write_le(file: &mut File, frames: &[Frame]) -> io::Result<()> {
    let bytes: Vec<u8> = frames
        .iter()
        .flat_map(|[left, right]| [left.to_le_bytes(), right.to_le_bytes()])
        .flatten()
        .collect();
    file.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hound_reads_what_it_wrote_sample_for_sample() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("call.wav");
        let mut wav = WavFile::create(&path).expect("create");
        wav.append(&[[1, -1], [i16::MAX, i16::MIN]])
            .expect("append");
        wav.append_silence(SILENCE.len() as u64 + 3)
            .expect("silence");
        wav.append(&[[300, -300]]).expect("append");
        assert_eq!(wav.frames(), 2 + 8003 + 1);
        wav.finalize().expect("finalize");
        let mut reader = hound::WavReader::open(&path).expect("a valid WAV");
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16)
        );
        let samples: Vec<i16> = reader.samples().map(|s| s.expect("sample")).collect();
        assert_eq!(samples.len(), 2 * (2 + 8003 + 1));
        assert_eq!(samples[..4], [1, -1, i16::MAX, i16::MIN]);
        assert!(samples[4..samples.len() - 2].iter().all(|&s| s == 0));
        assert_eq!(samples[samples.len() - 2..], [300, -300]);
    }

    #[test]
    fn the_header_is_valid_after_every_update_while_audio_is_still_coming() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("call.wav");
        let mut wav = WavFile::create(&path).expect("create");
        for round in 1..=3u32 {
            wav.append(&[[5, 6]; 100]).expect("append");
            wav.update_header().expect("update");
            let reader = hound::WavReader::open(&path).expect("valid mid-call");
            assert_eq!(reader.len(), 200 * round);
        }
    }
}
