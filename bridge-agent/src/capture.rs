//! Capture files as a packet source: pcap and pcapng, gzip-compressed or not, and Microsoft
//! Network Monitor 2.x files.
//!
//! Frames are handed out one at a time with their time and link type; the data borrows the
//! reader's buffer (pcap-file's for pcap, a reused one of ours for the other formats), so
//! reading a capture costs no allocation, and for pcap no copy, per frame.
//!
//! Memory stays flat whatever the file holds: pcap and pcapng are read as streams (gzip
//! decompressed as it is read, through `MultiGzDecoder`) with pcap-file's fixed 8 MB buffer,
//! which also bounds one frame. Time is bounded by the bytes in the file: a gzip stream that
//! expands more than [`MAX_GZIP_RATIO`]-fold past its first [`GZIP_FREE_BYTES`] is stopped
//! as a gzip bomb (real captures compress 2 to 10-fold; a bomb of zeros about 1000-fold). The
//! one format read whole, `NetMon` (its frame table sits at the end), is read only up to
//! [`MAX_NETMON_BYTES`].

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;
use ringside_core::packet::LinkType;
use ringside_core::Timestamp;

use crate::netmon::NetMon;

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Reading the file failed.
    #[error("cannot read the capture: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not pcap, pcapng, `NetMon` or gzip.
    #[error("not a pcap, pcapng or NetMon file (it starts with {0:02x?})")]
    UnknownFormat([u8; 4]),
    /// The pcap or pcapng structure is broken.
    #[error("broken capture file: {0}")]
    Format(#[from] pcap_file::PcapError),
    /// A Network Monitor file Ringside cannot read.
    #[error("{0}")]
    NetMon(#[from] crate::netmon::NetMonError),
    /// A link type Ringside does not decode.
    #[error("unsupported link type {0}")]
    LinkType(u32),
    /// The file ends inside a packet.
    #[error("the file ends inside a packet (it was cut short)")]
    Truncated,
    /// A pcapng section describing more interfaces than any real capture has.
    #[error("more than {MAX_INTERFACES} interfaces in one pcapng section")]
    TooManyInterfaces,
    /// A `NetMon` file larger than Ringside reads.
    #[error("NetMon files over {} MiB are not read (convert it to pcap with editcap)", MAX_NETMON_BYTES >> 20)]
    NetMonTooLarge,
}

/// Decompressed bytes of a gzip capture read before its ratio is checked.
pub const GZIP_FREE_BYTES: u64 = 16 << 20;
/// How many times its compressed size a gzip capture may expand past [`GZIP_FREE_BYTES`].
pub const MAX_GZIP_RATIO: u64 = 100;
/// Interfaces one pcapng section may describe (each costs memory until the section ends).
pub const MAX_INTERFACES: usize = 1024;
/// The largest `NetMon` file read (it is read whole).
pub const MAX_NETMON_BYTES: u64 = 64 << 20;

/// One captured frame.
#[derive(Debug)]
pub struct CapturedFrame<'a> {
    /// When it was captured.
    pub time: Timestamp,
    /// How its bytes start.
    pub link: LinkType,
    /// The bytes captured.
    pub data: &'a [u8],
}

struct Interface {
    link: Option<LinkType>,
    /// How many timestamp units make a second (`if_tsresol`).
    units_per_second: u64,
}

enum Format {
    Pcap(PcapReader<Box<dyn Read>>, LinkType),
    PcapNg(PcapNgReader<Box<dyn Read>>, Vec<Interface>),
    NetMon(NetMon),
}

/// An open capture.
pub struct Capture {
    format: Format,
    /// The current frame's bytes, reused from frame to frame.
    buffer: Vec<u8>,
    /// Frames skipped because their interface has a link type Ringside does not read.
    pub skipped: u64,
}

/// What the start of a file says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// pcap or pcapng (possibly gzip-compressed).
    Capture,
    /// SIP messages as text (a trace, one message after another).
    SipText,
}

/// Tells a capture from a SIP text trace by the first bytes: capture files start with a
/// magic number; a trace starts with a SIP start line, or is text that mentions `SIP/` (a version).
#[must_use]
pub fn file_kind(start: &[u8]) -> FileKind {
    let magic_numbers: [&[u8]; 7] = [
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0xc3, 0xd4],
        &[0x4d, 0x3c, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0x3c, 0x4d],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        &[0x1f, 0x8b],
        b"GMBU",
    ];
    let is_capture = magic_numbers.iter().any(|m| start.starts_with(m));
    let is_text = start
        .iter()
        .all(|&b| !b.is_ascii_control() || b.is_ascii_whitespace());
    let mentions_sip = start.windows(4).any(|w| w == b"SIP/");
    if !is_capture && (ringside_core::sip::looks_like_sip(start) || (is_text && mentions_sip)) {
        FileKind::SipText
    } else {
        FileKind::Capture
    }
}

impl Capture {
    /// Opens a capture from a reader, detecting pcap, pcapng and gzip by their magic numbers.
    pub fn from_reader(reader: impl Read + 'static) -> Result<Capture, CaptureError> {
        let compressed = Rc::new(Cell::new(0));
        let mut reader = BufReader::new(Counted {
            inner: reader,
            count: Rc::clone(&compressed),
        });
        let magic = peek_magic(&mut reader)?;
        if magic[..2] == [0x1f, 0x8b] {
            let mut inner = BufReader::new(BombGuard {
                inner: MultiGzDecoder::new(reader),
                compressed,
                expanded: 0,
            });
            let magic = peek_magic(&mut inner)?;
            return Self::open_format(Box::new(inner), magic);
        }
        Self::open_format(Box::new(reader), magic)
    }

    fn open_format(reader: Box<dyn Read>, magic: [u8; 4]) -> Result<Capture, CaptureError> {
        let format = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d] => {
                let reader = PcapReader::new(reader)?;
                let datalink = reader.header().datalink;
                let link = link_type(datalink).ok_or(CaptureError::LinkType(datalink.into()))?;
                Format::Pcap(reader, link)
            }
            [0x0a, 0x0d, 0x0d, 0x0a] => Format::PcapNg(PcapNgReader::new(reader)?, Vec::new()),
            [b'G', b'M', b'B', b'U'] => {
                let mut bytes = Vec::new();
                reader.take(MAX_NETMON_BYTES + 1).read_to_end(&mut bytes)?;
                if bytes.len() as u64 > MAX_NETMON_BYTES {
                    return Err(CaptureError::NetMonTooLarge);
                }
                Format::NetMon(NetMon::new(bytes)?)
            }
            other => return Err(CaptureError::UnknownFormat(other)),
        };
        Ok(Capture {
            format,
            buffer: Vec::with_capacity(2048),
            skipped: 0,
        })
    }

    /// The next frame, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Option<Result<CapturedFrame<'_>, CaptureError>> {
        let buffer = &mut self.buffer;
        let (time, link) = match &mut self.format {
            Format::Pcap(reader, link) => match reader.next_packet()? {
                Ok(packet) => {
                    let time = Timestamp::from(packet.timestamp);
                    if let Cow::Borrowed(data) = packet.data {
                        // Lent from pcap-file's own buffer: handed on without a copy.
                        let link = *link;
                        return Some(Ok(CapturedFrame { time, link, data }));
                    }
                    buffer.clear();
                    buffer.extend_from_slice(&packet.data);
                    (time, *link)
                }
                Err(error) => return Some(Err(from_pcap(error))),
            },
            Format::PcapNg(reader, interfaces) => {
                match next_pcapng_frame(reader, interfaces, &mut self.skipped, buffer)? {
                    Ok(found) => found,
                    Err(error) => return Some(Err(error)),
                }
            }
            Format::NetMon(netmon) => match netmon.next_frame()? {
                Ok((time, link, data)) => {
                    buffer.clear();
                    buffer.extend_from_slice(data);
                    (time, link)
                }
                Err(error) => return Some(Err(error.into())),
            },
        };
        Some(Ok(CapturedFrame {
            time,
            link,
            data: &self.buffer,
        }))
    }
}

/// Reads pcapng blocks up to the next packet on an interface Ringside can decode, copies its
/// data into `buffer`, and returns its time and link type.
fn next_pcapng_frame(
    reader: &mut PcapNgReader<Box<dyn Read>>,
    interfaces: &mut Vec<Interface>,
    skipped: &mut u64,
    buffer: &mut Vec<u8>,
) -> Option<Result<(Timestamp, LinkType), CaptureError>> {
    loop {
        let (interface, raw_time, data) = match reader.next_block()? {
            Err(error) => return Some(Err(from_pcap(error))),
            Ok(Block::SectionHeader(_)) => {
                interfaces.clear();
                continue;
            }
            Ok(Block::InterfaceDescription(_)) if interfaces.len() >= MAX_INTERFACES => {
                return Some(Err(CaptureError::TooManyInterfaces));
            }
            Ok(Block::InterfaceDescription(idb)) => {
                let units_per_second = idb.options.iter().find_map(|o| match o {
                    InterfaceDescriptionOption::IfTsResol(r) => Some(ts_units_per_second(*r)),
                    _ => None,
                });
                interfaces.push(Interface {
                    link: link_type(idb.linktype),
                    units_per_second: units_per_second.unwrap_or(1_000_000),
                });
                continue;
            }
            // pcap-file reads the raw timestamp as nanoseconds; it is in `if_tsresol` units.
            Ok(Block::EnhancedPacket(epb)) => (
                epb.interface_id as usize,
                epb.timestamp.as_nanos(),
                epb.data,
            ),
            Ok(Block::SimplePacket(spb)) => (0, 0, spb.data),
            Ok(_) => continue,
        };
        let Some((link, units)) = interfaces
            .get(interface)
            .and_then(|i| i.link.map(|l| (l, i.units_per_second)))
        else {
            *skipped += 1;
            continue;
        };
        buffer.clear();
        buffer.extend_from_slice(&data);
        let micros = raw_time * 1_000_000 / u128::from(units);
        return Some(Ok((Timestamp(micros as u64), link)));
    }
}

/// How frames of a pcap/pcapng link type start, if Ringside reads them.
fn link_type(datalink: DataLink) -> Option<LinkType> {
    match datalink {
        DataLink::NULL | DataLink::LOOP => Some(LinkType::Null),
        DataLink::ETHERNET => Some(LinkType::Ethernet),
        // 12 and 14 are `DLT_RAW` on some BSDs, found as link types in files their tools wrote;
        // pcap-file knows them by no name.
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 | DataLink::Unknown(12 | 14) => {
            Some(LinkType::RawIp)
        }
        DataLink::LINUX_SLL => Some(LinkType::LinuxSll),
        DataLink::LINUX_SLL2 => Some(LinkType::LinuxSll2),
        _ => None,
    }
}

/// `if_tsresol`: a power of ten, or of two when the top bit is set (pcapng §4.2).
fn ts_units_per_second(resolution: u8) -> u64 {
    let exponent = u32::from(resolution & 0x7f).min(19);
    if resolution & 0x80 == 0 {
        10u64.pow(exponent)
    } else {
        1u64 << exponent.min(63)
    }
}

/// Tells a file cut short and a failed read (a gzip bomb stopped, a disk error) from a broken
/// structure.
fn from_pcap(error: pcap_file::PcapError) -> CaptureError {
    match error {
        pcap_file::PcapError::IncompleteBuffer => CaptureError::Truncated,
        pcap_file::PcapError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            CaptureError::Truncated
        }
        pcap_file::PcapError::IoError(e) => CaptureError::Io(e),
        other => CaptureError::Format(other),
    }
}

/// The most bytes read from a capture file at once. pcap-file fills an 8 MB buffer with
/// whatever one read gives, from its start: read a quarter of a megabyte at a time, it keeps
/// to that buffer's first few hundred kilobytes, which stay in the CPU's cache for the
/// kernel's copy and the parsing after it.
const READ_PORTION: usize = 256 << 10;

/// A reader that counts the bytes it hands out, [`READ_PORTION`] at most at once.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let portion = buffer.len().min(READ_PORTION);
        let n = self.inner.read(&mut buffer[..portion])?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// A gzip decoder that fails once its output outgrows its input (see [`MAX_GZIP_RATIO`]).
struct BombGuard<R> {
    inner: R,
    /// Compressed bytes read so far (counted under the decoder).
    compressed: Rc<Cell<u64>>,
    expanded: u64,
}

impl<R: Read> Read for BombGuard<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.expanded += n as u64;
        let allowed = GZIP_FREE_BYTES.max(self.compressed.get() * MAX_GZIP_RATIO);
        if self.expanded > allowed {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a gzip bomb: {} MiB from {} KiB compressed (more than {MAX_GZIP_RATIO}-fold)",
                    self.expanded >> 20,
                    self.compressed.get() >> 10
                ),
            ));
        }
        Ok(n)
    }
}

fn peek_magic(reader: &mut impl BufRead) -> Result<[u8; 4], CaptureError> {
    let buffer = reader.fill_buf()?;
    let mut magic = [0; 4];
    let n = buffer.len().min(4);
    magic[..n].copy_from_slice(&buffer[..n]);
    Ok(magic)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcapng section header and `interfaces` interface descriptions (Ethernet).
    fn pcapng_with_interfaces(interfaces: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [0x0A0D_0D0A_u32, 28, 0x1A2B_3C4D, 1, u32::MAX, u32::MAX, 28] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        for _ in 0..interfaces {
            for word in [1_u32, 20, 1, 0, 20] {
                bytes.extend_from_slice(&word.to_le_bytes());
            }
        }
        bytes
    }

    #[test]
    fn the_link_types_read_are_those_of_the_linktype_registry() {
        let expected = |code: u32| match code {
            0 | 108 => Some(LinkType::Null),
            1 => Some(LinkType::Ethernet),
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            _ => None,
        };
        for code in 0..=u32::from(u16::MAX) {
            assert_eq!(link_type(DataLink::from(code)), expected(code), "{code}");
        }
    }

    #[test]
    fn a_flood_of_pcapng_interfaces_is_refused_not_kept() {
        let mut capture =
            Capture::from_reader(std::io::Cursor::new(pcapng_with_interfaces(MAX_INTERFACES)))
                .expect("pcapng");
        assert!(capture.next_frame().is_none(), "no packets, no error");
        let mut flood = Capture::from_reader(std::io::Cursor::new(pcapng_with_interfaces(
            MAX_INTERFACES + 1,
        )))
        .expect("pcapng");
        assert!(matches!(
            flood.next_frame(),
            Some(Err(CaptureError::TooManyInterfaces))
        ));
    }
}
