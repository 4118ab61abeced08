//! Waveform pictures of recordings: an SVG with the peaks of each channel, the remote party
//! above the line and the phone below, drawn from the WAV on request.

use std::fmt::Write as _;
use std::path::Path;

/// Columns in the picture.
pub const COLUMNS: usize = 240;

/// The SVG of the WAV at `path`: per column, the loudest sample of each channel, scaled to
/// the loudest sample of the recording.
pub fn svg(path: &Path) -> Result<String, hound::Error> {
    let reader = hound::WavReader::open(path)?;
    let channels = usize::from(reader.spec().channels.max(1));
    let frames = (reader.duration() as usize).max(1);
    let per_column = frames.div_ceil(COLUMNS);
    let mut peaks = vec![[0u16; 2]; COLUMNS];
    for (index, sample) in reader.into_samples::<i16>().enumerate() {
        let sample = sample?;
        let column = (index / channels / per_column).min(COLUMNS - 1);
        let channel = (index % channels).min(1);
        peaks[column][channel] = peaks[column][channel].max(sample.unsigned_abs());
    }
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {COLUMNS} 40\" \
         preserveAspectRatio=\"none\" role=\"img\" aria-label=\"waveform\">\
         <line x1=\"0\" y1=\"20\" x2=\"{COLUMNS}\" y2=\"20\" stroke=\"#dfe5eb\"/>"
    );
    // Scaled to the recording's loudest moment, so quiet lines still show their shape.
    let loudest = peaks
        .iter()
        .flat_map(|p| p.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    for (x, [remote, phone]) in peaks.iter().enumerate() {
        // Heights in tenths of a unit, up to 20 units either side of the middle line.
        let up = u32::from(*remote) * 200 / u32::from(loudest);
        let down = u32::from(*phone) * 200 / u32::from(loudest);
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{}.{}\" width=\"0.8\" height=\"{}.{}\" fill=\"#1f6feb\"/>\
             <rect x=\"{x}\" y=\"20\" width=\"0.8\" height=\"{}.{}\" fill=\"#2e7d32\"/>",
            (200 - up) / 10,
            (200 - up) % 10,
            up / 10,
            up % 10,
            down / 10,
            down % 10
        );
    }
    out.push_str("</svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each channel gets its own row of columns: a loud caller reaches the top of its row,
    /// a silent phone side stays flat.
    #[test]
    fn a_loud_left_channel_and_a_silent_right_one_draw_as_such() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).expect("create");
        for i in 0..8000 {
            writer
                .write_sample(if i % 2 == 0 { 16_384i16 } else { -16_384 })
                .expect("l");
            writer.write_sample(0i16).expect("r");
        }
        writer.finalize().expect("finalize");
        let svg = svg(&path).expect("an SVG");
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<rect").count(), COLUMNS * 2);
        assert!(
            svg.contains("y=\"0.0\" width=\"0.8\" height=\"20.0\" fill=\"#1f6feb\""),
            "the loudest sample reaches the top"
        );
        assert!(
            svg.contains("height=\"0.0\" fill=\"#2e7d32\""),
            "silent phone side"
        );
    }
}
