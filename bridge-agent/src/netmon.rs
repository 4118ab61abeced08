//! Microsoft Network Monitor 2.x capture files (magic `GMBU`), read whole into memory: a
//! header with the capture's start time and a table of frame offsets, then frames of
//! `time offset (µs), wire length, captured length, bytes`.

use ringside_core::packet::LinkType;
use ringside_core::Timestamp;
use time::{Date, Month, PrimitiveDateTime, Time};

/// Why a `NetMon` file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NetMonError {
    /// The file ends inside its header, frame table or a frame.
    #[error("NetMon file truncated")]
    Truncated,
    /// A MAC type other than Ethernet.
    #[error("NetMon MAC type {0} is not supported (only Ethernet)")]
    MacType(u16),
}

/// A frame: when, its link type, its bytes.
pub type NetMonFrame<'a> = (Timestamp, LinkType, &'a [u8]);

/// A `NetMon` capture in memory.
#[derive(Debug)]
pub struct NetMon {
    bytes: Vec<u8>,
    start: Timestamp,
    offsets: Vec<usize>,
    next: usize,
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, NetMonError> {
    let b = bytes.get(at..at + 2).ok_or(NetMonError::Truncated)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, NetMonError> {
    let b = bytes.get(at..at + 4).ok_or(NetMonError::Truncated)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl NetMon {
    /// Reads the header and frame table of a whole file.
    pub fn new(bytes: Vec<u8>) -> Result<NetMon, NetMonError> {
        let mac_type = u16_at(&bytes, 6)?;
        if mac_type != 1 {
            return Err(NetMonError::MacType(mac_type));
        }
        // SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds.
        let field = |i: usize| u16_at(&bytes, 8 + 2 * i);
        let (year, month, day) = (field(0)?, field(1)?, field(3)?);
        let date = Month::try_from(month as u8)
            .ok()
            .and_then(|month| {
                Date::from_calendar_date(i32::from(year), month, day.max(1) as u8).ok()
            })
            .unwrap_or(Date::MIN);
        let clock =
            Time::from_hms_milli(field(4)? as u8, field(5)? as u8, field(6)? as u8, field(7)?)
                .unwrap_or(Time::MIDNIGHT);
        let seconds = PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .unix_timestamp_nanos()
            / 1000;
        let start = Timestamp(u64::try_from(seconds).unwrap_or(0));
        let table = u32_at(&bytes, 24)? as usize;
        let table_len = u32_at(&bytes, 28)? as usize;
        let offsets = (0..table_len / 4)
            .map(|i| u32_at(&bytes, table + 4 * i).map(|o| o as usize))
            .collect::<Result<_, _>>()?;
        Ok(NetMon {
            bytes,
            start,
            offsets,
            next: 0,
        })
    }

    /// The next frame: time, link type, bytes.
    pub fn next_frame(&mut self) -> Option<Result<NetMonFrame<'_>, NetMonError>> {
        let at = *self.offsets.get(self.next)?;
        self.next += 1;
        let frame = (|| {
            let low = u64::from(u32_at(&self.bytes, at)?);
            let high = u64::from(u32_at(&self.bytes, at + 4)?);
            let captured = u32_at(&self.bytes, at + 12)? as usize;
            let data = self
                .bytes
                .get(at + 16..at + 16 + captured)
                .ok_or(NetMonError::Truncated)?;
            // The offset is any 64-bit value: a file far in the future stays at the end of time.
            Ok((
                Timestamp(self.start.as_micros().saturating_add(high << 32 | low)),
                LinkType::Ethernet,
                data,
            ))
        })();
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `NetMon` 2.x file: header (magic, version, MAC type 1, a SYSTEMTIME), started 2026-11-28, then one
    /// frame at offset 40 whose time offset is the largest 64-bit value, and the frame table.
    const NETMON_FRAME_TIME_OVERFLOW: [u8; 64] = [
        b'G', b'M', b'B', b'U', 0, 2, 1, 0, // magic, version 2.0, MAC type Ethernet
        0xea, 7, 11, 0, 6, 0, 28, 0, 11, 0, 0, 0, 0, 0, 0, 0, // 2026-11-28 11:00:00.000
        56, 0, 0, 0, 4, 0, 0, 0, // frame table at 56, 4 bytes long
        0, 0, 0, 0, 0, 0, 0, 0, // padding up to the frame
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // time offset: u64::MAX µs
        0, 0, 0, 0, 0, 0, 0, 0, // wire length, captured length 0
        40, 0, 0, 0, 0, 0, 0, 0, // the table: one frame at 40
    ];

    /// A frame whose 64-bit time offset ran past `u64` when added to the file's start
    /// panicked with debug assertions and wrapped to a time near 1970 in release.
    #[test]
    fn netmon_frame_time_overflow_saturates_instead_of_wrapping() {
        let mut netmon = NetMon::new(NETMON_FRAME_TIME_OVERFLOW.to_vec()).expect("a header");
        let (time, _, data) = netmon.next_frame().expect("a frame").expect("readable");
        assert_eq!(time, Timestamp(u64::MAX));
        assert!(data.is_empty());
        assert!(netmon.next_frame().is_none());
    }
}
