//! G.711 µ-law and A-law (ITU-T G.711), decoded by table lookup and encoded for tones.

/// µ-law byte to 16-bit linear PCM.
static ULAW_TO_LINEAR: [i16; 256] = build_table(false);
/// A-law byte to 16-bit linear PCM.
static ALAW_TO_LINEAR: [i16; 256] = build_table(true);

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_to_linear(i as u8)
        } else {
            ulaw_to_linear(i as u8)
        };
        i += 1;
    }
    table
}

const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = (u & 0x0f) as i16;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = (a & 0x0f) as i16;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    if a & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// Decodes one µ-law byte.
#[must_use]
#[inline]
pub fn decode_ulaw(byte: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(byte)]
}

/// Decodes one A-law byte.
#[must_use]
#[inline]
pub fn decode_alaw(byte: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(byte)]
}

/// Encodes a linear sample to µ-law.
#[must_use]
pub fn encode_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    let mut pcm = i32::from(sample);
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = (pcm + BIAS).min(0x7fff);
    let exponent = (15 - (pcm as u16).leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (pcm >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// Encodes a linear sample to A-law.
#[must_use]
pub fn encode_alaw(sample: i16) -> u8 {
    let mut pcm = i32::from(sample);
    let sign = if pcm >= 0 { 0x80 } else { 0 };
    if pcm < 0 {
        pcm = -pcm - 1;
    }
    pcm = pcm.min(0x7fff);
    let byte = if pcm < 256 {
        (pcm >> 4) as u8
    } else {
        let exponent = 15 - (pcm as u16).leading_zeros() as i32 - 7;
        ((exponent << 4) | ((pcm >> (exponent + 3)) & 0x0f)) as u8
    };
    (byte | sign) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extremes and the codes next to zero decode to the values of the G.711 tables (a
    /// wrong bias or sign bit shows here first, as silence that is not silent).
    #[test]
    fn the_extreme_and_near_zero_codes_decode_as_the_g711_tables_say() {
        assert_eq!(decode_ulaw(0xff), 0);
        assert_eq!(decode_ulaw(0x7f), 0);
        assert_eq!(decode_ulaw(0x00), -32124);
        assert_eq!(decode_ulaw(0x80), 32124);
        assert_eq!(decode_alaw(0xd5), 8);
        assert_eq!(decode_alaw(0x55), -8);
        assert_eq!(decode_alaw(0xaa), 32256);
        assert_eq!(decode_alaw(0x2a), -32256);
    }

    #[test]
    fn encode_then_decode_is_close() {
        for sample in (-32000i16..32000).step_by(97) {
            let tolerance = (i32::from(sample).abs() / 16).max(16);
            let u = i32::from(decode_ulaw(encode_ulaw(sample)));
            let a = i32::from(decode_alaw(encode_alaw(sample)));
            assert!(
                (u - i32::from(sample)).abs() <= tolerance,
                "ulaw {sample} -> {u}"
            );
            assert!(
                (a - i32::from(sample)).abs() <= tolerance,
                "alaw {sample} -> {a}"
            );
        }
    }

    #[test]
    fn every_byte_round_trips() {
        for byte in 0..=255u8 {
            assert_eq!(
                decode_ulaw(encode_ulaw(decode_ulaw(byte))),
                decode_ulaw(byte)
            );
            assert_eq!(
                decode_alaw(encode_alaw(decode_alaw(byte))),
                decode_alaw(byte)
            );
        }
    }
}
