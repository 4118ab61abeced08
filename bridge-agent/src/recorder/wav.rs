//! One recording's WAV file (stereo, 8 kHz, 16-bit PCM): audio appended with one system call
//! per chunk straight from the mixer's frames, in whole pages, the header's two sizes brought
//! up to date in place.
//!
//! hound wrote the audio before, and it still writes the header and reads the files: its
//! writer converts every sample into a buffer of its own and, to bring the header up to
//! date, seeks to each size and back (five system calls). At 1,000 calls recorded that was
//! a tenth of a replay's CPU. Here the frames' bytes are written as they lie in memory
//! (`[i16; 2]` little-endian is the WAV layout; a big-endian build swaps them first) and the
//! header with its sizes in one positioned write. A write error leaves the file as valid as its last
//! header update; [`super::repair_recordings`] mends what a crash leaves after that.
//!
//! Each write ends on a page boundary of the file; the few bytes past it (less than a page,
//! 128 ms of audio) wait for the next chunk, and go out when the file is closed. With the
//! mixer's chunks a whole number of pages, every write after the first covers the same
//! aligned stretch of the file, and the kernel caches it in one large folio rather than in
//! pages and partial pages: writing 1,000 recordings so costs it a third less system time
//! than 32,000-byte writes after the 44-byte header did (see BENCHMARKS.md).

use std::fs::File;
use std::io::{self, Cursor, IoSlice, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use ringside_core::mixer::Frame;

use super::{create_file, SAMPLE_RATE};

/// Bytes of one stereo 16-bit frame.
const FRAME_BYTES: u64 = 4;

/// Writes end on multiples of this many bytes of the file: the page size of every Linux the
/// agent runs on (x86-64, 64-bit ARM with 4 KiB pages).
const PAGE_BYTES: u64 = 4096;

/// Silence written into gaps, a second at a time.
static SILENCE: [Frame; SAMPLE_RATE as usize] = [[0, 0]; SAMPLE_RATE as usize];

/// An open recording.
pub struct WavFile {
    file: File,
    /// The header, up to the first audio byte, as hound wrote it for no audio.
    header: Vec<u8>,
    /// Audio bytes in the file, after the header.
    written: u64,
    /// Audio after the last page boundary, not written yet: less than a page.
    tail: Vec<u8>,
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
            written: 0,
            tail: Vec::new(),
        })
    }

    /// Frames appended so far.
    #[must_use]
    pub fn frames(&self) -> u64 {
        (self.written + self.tail.len() as u64) / FRAME_BYTES
    }

    /// Appends frames. Refused (an error) past the 4 GiB a WAV's sizes can say: 37 hours.
    pub fn append(&mut self, frames: &[Frame]) -> io::Result<()> {
        let bytes = frames.len() as u64 * FRAME_BYTES;
        let end = self.header.len() as u64 + self.written + self.tail.len() as u64 + bytes;
        if end > u64::from(u32::MAX) {
            return Err(io::Error::other(
                "the recording reached the 4 GiB a WAV can hold",
            ));
        }
        self.append_bytes(&little_endian(frames))
    }

    /// Writes the tail and `bytes` up to the last page boundary they reach, in one system
    /// call, and keeps the rest as the new tail.
    fn append_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        let start = self.header.len() as u64 + self.written;
        let end = start + self.tail.len() as u64 + bytes.len() as u64;
        let boundary = end - end % PAGE_BYTES;
        if boundary <= start {
            // Short of the page the tail lies in: it stays less than a page.
            self.tail.extend_from_slice(bytes);
            return Ok(());
        }
        // The tail ends before the first boundary after `start`, so it is all written.
        let (now, rest) = bytes.split_at((boundary - start) as usize - self.tail.len());
        write_all_vectored(
            &mut self.file,
            &mut [IoSlice::new(&self.tail), IoSlice::new(now)],
        )?;
        self.written += boundary - start;
        self.tail.clear();
        self.tail.extend_from_slice(rest);
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

    /// Writes the header again with the sizes of the audio in the file (the RIFF size at
    /// byte 4, the data size in its last four bytes), in one system call. No `fsync`: the page
    /// cache keeps the file whole if the agent crashes; only the box losing power can lose
    /// more.
    pub fn update_header(&mut self) -> io::Result<()> {
        let len = self.header.len();
        let riff = (len as u64 - 8 + self.written) as u32;
        self.header[4..8].copy_from_slice(&riff.to_le_bytes());
        self.header[len - 4..].copy_from_slice(&(self.written as u32).to_le_bytes());
        self.file.write_all_at(&self.header, 0)
    }

    /// Writes the tail, brings the header up to date and closes the file.
    pub fn finalize(mut self) -> io::Result<()> {
        let tail = std::mem::take(&mut self.tail);
        self.file.write_all(&tail)?;
        self.written += tail.len() as u64;
        self.update_header()
    }
}

/// `write_all` for several buffers in one system call (the standard library's
/// `write_all_vectored` is not stable): a short write goes on where it stopped.
fn write_all_vectored(file: &mut File, mut buffers: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !buffers.is_empty() {
        match file.write_vectored(buffers) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut buffers, written),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Frames as little-endian 16-bit samples, left then right: the WAV's bytes.
#[cfg(target_endian = "little")]
fn little_endian(frames: &[Frame]) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Borrowed(bytemuck::cast_slice(frames))
}

/// Frames as little-endian 16-bit samples, left then right: the WAV's bytes.
#[cfg(target_endian = "big")]
fn little_endian(frames: &[Frame]) -> std::borrow::Cow<'_, [u8]> {
    frames
        .iter()
        .flat_map(|[left, right]| [left.to_le_bytes(), right.to_le_bytes()])
        .flatten()
        .collect()
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
        for _ in 1..=3 {
            wav.append(&[[5, 6]; 3000]).expect("append");
            wav.update_header().expect("update");
            let reader = hound::WavReader::open(&path).expect("valid mid-call");
            let on_disk = std::fs::metadata(&path).expect("metadata").len();
            assert_eq!(
                u64::from(reader.len()) * 2,
                on_disk - 44,
                "the header counts the audio in the file"
            );
        }
    }

    #[test]
    fn writes_end_on_page_boundaries_and_closing_writes_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("call.wav");
        let on_disk = || std::fs::metadata(&path).expect("metadata").len();
        let mut wav = WavFile::create(&path).expect("create");
        assert_eq!(on_disk(), 44, "the header alone");
        wav.append(&vec![[1, 1]; 8192]).expect("append");
        assert_eq!(on_disk(), 32_768, "up to the page boundary: 44 bytes wait");
        wav.append(&[[2, 2]; 100]).expect("append");
        assert_eq!(on_disk(), 32_768, "444 bytes are not a page");
        wav.append(&vec![[3, 3]; 8192]).expect("append");
        assert_eq!(on_disk(), 65_536, "one write, boundary to boundary");
        assert_eq!(wav.frames(), 8192 + 100 + 8192);
        wav.finalize().expect("finalize");
        assert_eq!(on_disk(), 44 + 4 * (8192 + 100 + 8192));
        let mut reader = hound::WavReader::open(&path).expect("a valid WAV");
        let samples: Vec<i16> = reader.samples().map(|s| s.expect("sample")).collect();
        let want: Vec<i16> = [(1, 8192), (2, 100), (3, 8192)]
            .iter()
            .flat_map(|&(value, frames)| vec![value; 2 * frames])
            .collect();
        assert_eq!(samples, want, "every sample once, in order");
    }
}
