//! The quarantine: packets that made the engine panic, kept for a bug report in
//! `quarantine/YYYYMMDD.pcap` (UTC day) in the data directory, as raw IP (link type 101, what
//! the queue hands the agent).
//!
//! Bounded whatever an attacker sends: a day's file stops growing at [`MAX_FILE_BYTES`], and
//! only the newest [`MAX_FILES`] days are kept. The directory is the owner's alone (0700, files
//! 0600): a packet holds a caller's number and perhaps a piece of a conversation.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use ringside_core::Timestamp;

use crate::timefmt::utc;

/// A day's file takes no more packets past this size.
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// Days of quarantine kept; older files are deleted when a new day's file starts.
pub const MAX_FILES: usize = 14;
/// The size of a pcap file header, written once at the start of each file.
const PCAP_HEADER_BYTES: usize = 24;

/// What became of a quarantined packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Appended to this file.
    In(PathBuf),
    /// Today's file is full; the packet was not kept.
    Full(PathBuf),
}

/// The quarantine directory of a data directory.
#[derive(Debug, Clone)]
pub struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    /// The quarantine under `data_dir` (created on the first packet).
    #[must_use]
    pub fn new(data_dir: &Path) -> Quarantine {
        Quarantine {
            dir: data_dir.join("quarantine"),
        }
    }

    /// Appends `packet` (an IP packet) captured at `at` to the day's file.
    pub fn keep(&self, at: Timestamp, packet: &[u8]) -> std::io::Result<Kept> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let day = utc(at);
        let name = format!(
            "{:04}{:02}{:02}.pcap",
            day.year(),
            u8::from(day.month()),
            day.day()
        );
        let path = self.dir.join(name);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        if size >= MAX_FILE_BYTES {
            return Ok(Kept::Full(path));
        }
        if size == 0 {
            self.prune()?;
        }
        let record = pcap_record(at, packet)?;
        // A new file gets the header; an existing one only the packet record.
        let bytes = if size == 0 {
            &record[..]
        } else {
            &record[PCAP_HEADER_BYTES..]
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        Ok(Kept::In(path))
    }

    /// Deletes the oldest days' files beyond [`MAX_FILES`] − 1, making room for a new one.
    fn prune(&self) -> std::io::Result<()> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "pcap"))
            .collect();
        // YYYYMMDD names sort by date.
        files.sort();
        let excess = (files.len() + 1).saturating_sub(MAX_FILES);
        for old in &files[..excess] {
            std::fs::remove_file(old)?;
        }
        Ok(())
    }
}

/// A pcap file (header and one record) holding `packet`; the header is the first
/// [`PCAP_HEADER_BYTES`] bytes.
fn pcap_record(at: Timestamp, packet: &[u8]) -> std::io::Result<Vec<u8>> {
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(Vec::new(), header).map_err(std::io::Error::other)?;
    let length = u32::try_from(packet.len()).map_err(std::io::Error::other)?;
    let time = std::time::Duration::from_micros(at.as_micros());
    writer
        .write_packet(&PcapPacket::new(time, length, packet))
        .map_err(std::io::Error::other)?;
    Ok(writer.into_writer())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;

    const DAY: u64 = 86_400_000_000;

    fn packets(path: &Path) -> Vec<Vec<u8>> {
        let mut reader = PcapReader::new(std::fs::File::open(path).expect("file")).expect("pcap");
        assert_eq!(reader.header().datalink, DataLink::RAW);
        let mut found = Vec::new();
        while let Some(packet) = reader.next_packet() {
            found.push(packet.expect("a whole record").data.into_owned());
        }
        found
    }

    #[test]
    fn packets_of_a_day_go_into_one_pcap_that_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let quarantine = Quarantine::new(dir.path());
        // 2026-11-28 12:00 UTC.
        let at = Timestamp(1_795_867_200_000_000);
        let Kept::In(path) = quarantine.keep(at, b"first").expect("kept") else {
            panic!("not kept");
        };
        assert!(
            path.ends_with("quarantine/20261128.pcap"),
            "{}",
            path.display()
        );
        quarantine
            .keep(at.plus(std::time::Duration::from_secs(1)), b"second")
            .expect("kept");
        assert_eq!(packets(&path), vec![b"first".to_vec(), b"second".to_vec()]);
        let mode = std::fs::metadata(&path).expect("meta").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn a_full_day_keeps_no_more_and_old_days_are_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let quarantine = Quarantine::new(dir.path());
        let big = vec![0x45; 60_000];
        let mut last = Kept::Full(PathBuf::new());
        for _ in 0..(MAX_FILE_BYTES / 60_000 + 2) {
            last = quarantine.keep(Timestamp(DAY), &big).expect("kept");
        }
        assert!(matches!(last, Kept::Full(_)), "{last:?}");
        let size = std::fs::metadata(dir.path().join("quarantine/19700102.pcap"))
            .expect("the day's file")
            .len();
        assert!(size < MAX_FILE_BYTES + 70_000, "{size} bytes");
        for day in 2..40 {
            quarantine.keep(Timestamp(day * DAY), b"x").expect("kept");
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("quarantine"))
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), MAX_FILES);
        assert_eq!(names.last().map(String::as_str), Some("19700209.pcap"));
    }
}
