//! A checked, zero-copy view of an RTP packet (RFC 3550 §5.1).

/// Why bytes are not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than its own header says.
    #[error("RTP packet truncated")]
    Truncated,
    /// Version is not 2.
    #[error("RTP version is not 2")]
    Version,
    /// Payload type 72..=76: RTCP on the RTP port (RFC 5761).
    #[error("RTCP, not RTP")]
    Rtcp,
}

/// An RTP packet whose header was checked; the accessors cannot fail.
#[derive(Debug, Clone, Copy)]
pub struct RtpPacket<'a> {
    bytes: &'a [u8],
    payload_start: usize,
    payload_end: usize,
}

impl<'a> RtpPacket<'a> {
    /// Checks the header, CSRC list, extension and padding.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, RtpError> {
        if bytes.len() < 12 {
            return Err(RtpError::Truncated);
        }
        if bytes[0] >> 6 != 2 {
            return Err(RtpError::Version);
        }
        if (72..=76).contains(&(bytes[1] & 0x7f)) {
            return Err(RtpError::Rtcp);
        }
        let csrc_count = usize::from(bytes[0] & 0x0f);
        let mut start = 12 + 4 * csrc_count;
        if bytes[0] & 0x10 != 0 {
            let ext = bytes.get(start + 2..start + 4).ok_or(RtpError::Truncated)?;
            start += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
        }
        let mut end = bytes.len();
        if bytes[0] & 0x20 != 0 {
            let padding = usize::from(bytes[end - 1]);
            end = end.checked_sub(padding).ok_or(RtpError::Truncated)?;
        }
        if start > end {
            return Err(RtpError::Truncated);
        }
        Ok(RtpPacket {
            bytes,
            payload_start: start,
            payload_end: end,
        })
    }

    /// The whole packet, header and all.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The marker bit: for audio, the first packet of a talkspurt.
    #[must_use]
    pub fn marker(&self) -> bool {
        self.bytes[1] & 0x80 != 0
    }

    /// The payload type.
    #[must_use]
    pub fn payload_type(&self) -> u8 {
        self.bytes[1] & 0x7f
    }

    /// The sequence number.
    #[must_use]
    pub fn sequence(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    /// The timestamp, in samples of the codec's clock.
    #[must_use]
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.bytes[4], self.bytes[5], self.bytes[6], self.bytes[7]])
    }

    /// The synchronisation source.
    #[must_use]
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.bytes[8], self.bytes[9], self.bytes[10], self.bytes[11]])
    }

    /// The payload, without CSRCs, extension and padding.
    #[must_use]
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.payload_start..self.payload_end]
    }

    /// Where the payload starts in the packet's bytes (after the header, CSRCs and
    /// extension).
    #[must_use]
    pub fn payload_offset(&self) -> usize {
        self.payload_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_fields_and_payload() {
        let mut packet = vec![
            0x80,
            0x80 | 8,
            0x12,
            0x34,
            0,
            0,
            0x01,
            0x40,
            0xde,
            0xad,
            0xbe,
            0xef,
        ];
        packet.extend_from_slice(&[0xd5; 160]);
        let rtp = RtpPacket::new_checked(&packet).expect("valid");
        assert!(rtp.marker());
        assert_eq!(rtp.payload_type(), 8);
        assert_eq!(rtp.sequence(), 0x1234);
        assert_eq!(rtp.timestamp(), 320);
        assert_eq!(rtp.ssrc(), 0xdead_beef);
        assert_eq!(rtp.payload().len(), 160);
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        let mut packet = vec![0xb1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        packet.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        packet.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // extension, one word
        packet.extend_from_slice(&[1, 2, 3, 0, 2]); // payload 1 2 3 + 2 bytes padding
        let rtp = RtpPacket::new_checked(&packet).expect("valid");
        assert_eq!(rtp.payload(), &[1, 2, 3]);
    }

    #[test]
    fn refuses_short_wrong_version_and_rtcp() {
        assert_eq!(
            RtpPacket::new_checked(&[0x80; 4]).err(),
            Some(RtpError::Truncated)
        );
        assert_eq!(
            RtpPacket::new_checked(&[0x40; 12]).err(),
            Some(RtpError::Version)
        );
        assert_eq!(
            RtpPacket::new_checked(&[0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]).err(),
            Some(RtpError::Rtcp)
        );
        assert_eq!(
            RtpPacket::new_checked(&[0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 200]).err(),
            Some(RtpError::Truncated)
        );
    }
}
