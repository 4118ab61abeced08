//! Crash repair of recordings: a WAV whose header a crash left stale (the agent brings it
//! up to date once a second) is mended from the file's length at the next start; on the way,
//! folders and files under `recordings/` that are open to other users are made owner-only.

use std::fs::OpenOptions;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::RECORDINGS_DIR;
use crate::store::owner_only;

/// Mends the WAV headers a crash left stale under `data_dir/recordings/`: the RIFF and data
/// sizes are set from the file's length (cut to whole frames). Folders and files that are
/// open to other users are made owner-only on the way. Returns the files mended.
pub fn repair_recordings(data_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut repaired = Vec::new();
    // Symlinks, `recordings` itself among them, are neither followed nor mended; folders that
    // cannot be read are passed over.
    let walk = WalkDir::new(data_dir.join(RECORDINGS_DIR)).follow_root_links(false);
    for entry in walk.into_iter().filter_map(Result::ok) {
        let (path, kind) = (entry.path(), entry.file_type());
        if kind.is_dir() {
            owner_only::tighten(path, owner_only::DIR_MODE)?;
        } else if kind.is_file() {
            owner_only::tighten(path, owner_only::FILE_MODE)?;
            if path.extension().is_some_and(|e| e == "wav") && repair_wav(path)? {
                repaired.push(entry.into_path());
            }
        }
    }
    Ok(repaired)
}

/// Fixes one WAV's header sizes; `Ok(false)` when it was already right or is not ours.
pub fn repair_wav(path: &Path) -> io::Result<bool> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let length = file.metadata()?.len();
    let mut header = [0u8; 12];
    if file.read_exact(&mut header).is_err()
        || &header[0..4] != b"RIFF"
        || &header[8..12] != b"WAVE"
    {
        return Ok(false);
    }
    // Walk the chunks to the data chunk.
    let mut at = 12u64;
    let mut block_align = 4u64;
    loop {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        if file.read_exact(&mut chunk).is_err() {
            return Ok(false);
        }
        let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        if &chunk[0..4] == b"fmt " {
            let mut fmt = [0u8; 16];
            file.read_exact(&mut fmt)?;
            block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]])).max(1);
        }
        if &chunk[0..4] == b"data" {
            let data_start = at + 8;
            let data_len = (length.saturating_sub(data_start) / block_align) * block_align;
            if data_len == size && data_start + data_len == length {
                return Ok(false);
            }
            file.set_len(data_start + data_len)?;
            file.seek(SeekFrom::Start(at + 4))?;
            file.write_all(&(data_len as u32).to_le_bytes())?;
            file.seek(SeekFrom::Start(4))?;
            file.write_all(&((data_start + data_len - 8) as u32).to_le_bytes())?;
            file.sync_all()?;
            return Ok(true);
        }
        at += 8 + size + (size & 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::WavFile;

    #[test]
    fn repairs_a_header_left_stale_by_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("recordings/crashed.wav");
        let mut wav = WavFile::create(&path).expect("create");
        wav.append(&[[5, 5]; 200]).expect("write");
        wav.finalize().expect("header says 400 samples");
        // Samples written after the last header update, then a crash mid-frame.
        let mut file = OpenOptions::new().append(true).open(&path).expect("reopen");
        file.write_all(&[5, 0].repeat(600)).expect("more samples");
        file.write_all(&[1]).expect("half a sample");
        drop(file);
        assert!(hound::WavReader::open(&path).expect("open").len() < 1000);
        assert_eq!(
            repair_recordings(dir.path()).expect("repair"),
            vec![path.clone()]
        );
        let reader = hound::WavReader::open(&path).expect("open");
        assert_eq!(reader.len(), 1000);
        assert!(!repair_wav(&path).expect("second repair"), "already right");
    }
}
