//! One model file over HTTP into `<name>.part`: resumed from where a broken
//! download stopped (`Range`), hashed as it arrives (the part already on disk
//! is hashed first), checked against the catalogue's size and sha256. A part
//! whose hash is wrong is deleted; a cancelled one is kept for the next try.

use super::catalogue::ModelFile;
use super::ModelError;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// Fetches `file` from `url` into `part`; `on_bytes` hears how many bytes
/// of it are on disk (first what an earlier try left, then after every
/// chunk). Returns when `part` holds the whole, verified file.
pub async fn fetch(
    http: &reqwest::Client,
    file: &ModelFile,
    url: &str,
    part: &Path,
    cancel: &CancellationToken,
    mut on_bytes: impl FnMut(u64),
) -> Result<(), ModelError> {
    let mut hasher = Sha256::new();
    let mut have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if have > file.size {
        std::fs::remove_file(part)?;
        have = 0;
    }
    if have > 0 {
        hash_existing(part, &mut hasher)?;
    }
    on_bytes(have);
    if have < file.size {
        let mut request = http.get(url);
        if have > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
        }
        let response = tokio::select! {
            r = request.send() => r.map_err(|e| ModelError::network(url, &e))?,
            _ = cancel.cancelled() => return Err(ModelError::Cancelled),
        };
        let status = response.status();
        if !(status.is_success()) {
            return Err(ModelError::Http { url: url.to_string(), status: status.as_u16() });
        }
        let mut out = std::fs::OpenOptions::new().create(true).append(true).open(part)?;
        if have > 0 && status != reqwest::StatusCode::PARTIAL_CONTENT {
            // The server sent the whole file again: start the part over.
            out.set_len(0)?;
            hasher = Sha256::new();
            have = 0;
            on_bytes(0);
        }
        let mut body = response.bytes_stream();
        loop {
            let chunk = tokio::select! {
                c = body.next() => c,
                _ = cancel.cancelled() => {
                    out.flush()?;
                    return Err(ModelError::Cancelled);
                }
            };
            match chunk {
                None => break,
                Some(Err(e)) => {
                    out.flush()?;
                    return Err(ModelError::network(url, &e));
                }
                Some(Ok(bytes)) => {
                    have += bytes.len() as u64;
                    if have > file.size {
                        drop(out);
                        std::fs::remove_file(part)?;
                        return Err(ModelError::Corrupt { file: file.name.to_string(), reason: "it is longer than the catalogue says".into() });
                    }
                    out.write_all(&bytes)?;
                    hasher.update(&bytes);
                    on_bytes(have);
                }
            }
        }
        out.sync_all()?;
        if have < file.size {
            return Err(ModelError::Network { url: url.to_string(), reason: format!("the connection ended after {have} of {} bytes", file.size) });
        }
    }
    let sum = hex(&hasher.finalize());
    if sum != file.sha256 {
        std::fs::remove_file(part)?;
        return Err(ModelError::Corrupt { file: file.name.to_string(), reason: "its checksum does not match (it was deleted; try again)".into() });
    }
    Ok(())
}

fn hash_existing(path: &Path, hasher: &mut Sha256) -> std::io::Result<()> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// The sha256 of a whole file, lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    hash_existing(path, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
