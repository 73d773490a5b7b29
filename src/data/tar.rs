//! Reading named members out of a gzip-compressed tar archive, enough for the
//! CIFAR archives as their publisher distributes them
//! (`cifar-10-binary.tar.gz`), so they need not be unpacked.
//!
//! A tar archive is a sequence of 512-byte headers, each followed by the
//! member's data padded to a multiple of 512 bytes, and ends with zero
//! blocks. A header holds the name (bytes 0..100, with a prefix at 345..500
//! in the POSIX `ustar` format), the size in octal (124..136), a checksum
//! (148..156: the sum of the header's bytes with this field read as spaces,
//! unsigned or, as some old writers did, signed)
//! and the type (156: `0` or NUL for a regular file). Every header's
//! checksum is verified, so a file that is not a tar archive is named as
//! one. Members are matched by their base name.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::{Error, Result};

const BLOCK: usize = 512;

/// The regular files of the `.tar.gz` archive `path` whose base names are
/// `names`, in that order (`None` for a name the archive lacks). Members not
/// asked for are skipped without being kept.
pub fn read_members(path: &Path, names: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
    let file = File::open(path).map_err(|e| Error::read(path, e))?;
    let mut reader = MultiGzDecoder::new(BufReader::new(file));
    members(&mut reader, names).map_err(|msg| Error::Data {
        file: path.to_path_buf(),
        msg,
    })
}

fn io_msg(e: io::Error) -> String {
    format!("corrupt or truncated gzip stream: {e}")
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` if the stream ended before
/// the first byte.
fn read_block(r: &mut impl Read, buf: &mut [u8]) -> std::result::Result<bool, String> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_msg(e)),
        }
    }
    match got {
        0 => Ok(false),
        n if n == buf.len() => Ok(true),
        n => Err(format!(
            "truncated: the archive ends {n} bytes into a {}-byte tar block",
            buf.len()
        )),
    }
}

/// [`read_members`] on a decompressed tar stream.
pub fn members(
    r: &mut impl Read,
    names: &[&str],
) -> std::result::Result<Vec<Option<Vec<u8>>>, String> {
    let mut found: Vec<Option<Vec<u8>>> = vec![None; names.len()];
    let mut header = [0u8; BLOCK];
    let mut offset: u64 = 0;
    let mut long_name: Option<String> = None;
    loop {
        if !read_block(r, &mut header)? {
            if offset == 0 {
                return Err("empty archive (no tar header)".to_string());
            }
            // Some writers omit the end-of-archive zero blocks.
            break;
        }
        if header.iter().all(|&b| b == 0) {
            break;
        }
        check_sum(&header, offset)?;
        let size = parse_size(&header[124..136])
            .ok_or_else(|| format!("bad size field in the tar header at offset {offset}"))?;
        let kind = header[156];
        let name = long_name.take().unwrap_or_else(|| header_name(&header));
        let padded = size
            .div_ceil(BLOCK as u64)
            .checked_mul(BLOCK as u64)
            .ok_or_else(|| format!("bad size field in the tar header at offset {offset}"))?;
        offset = offset.saturating_add(BLOCK as u64);
        let wanted = if kind == b'0' || kind == 0 {
            let base = name.rsplit('/').next().unwrap_or(&name);
            names.iter().position(|n| *n == base)
        } else {
            None
        };
        if kind == b'L' {
            // GNU long name: the data is the next member's name.
            let data = read_data(r, size, &name)?;
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            long_name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
            skip(r, padded - size, &name)?;
        } else if let Some(i) = wanted {
            found[i] = Some(read_data(r, size, &name)?);
            skip(r, padded - size, &name)?;
        } else {
            skip(r, padded, &name)?;
        }
        offset = offset.saturating_add(padded);
    }
    Ok(found)
}

fn header_name(h: &[u8; BLOCK]) -> String {
    let field = |b: &[u8]| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let name = field(&h[0..100]);
    // POSIX ustar ("ustar\0") has a name prefix; old GNU headers ("ustar ")
    // keep other fields there.
    if &h[257..263] == b"ustar\0" {
        let prefix = field(&h[345..500]);
        if !prefix.is_empty() {
            return format!("{prefix}/{name}");
        }
    }
    name
}

/// Octal digits (space or NUL padded), or GNU's base-256 for big sizes.
fn parse_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        return field[1..]
            .iter()
            .try_fold(u64::from(field[0] & 0x7f), |acc, &b| {
                acc.checked_mul(256)?.checked_add(u64::from(b))
            });
    }
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

fn check_sum(h: &[u8; BLOCK], offset: u64) -> std::result::Result<(), String> {
    let stored = parse_size(&h[148..156]);
    let field = |i: usize, b: u8| if (148..156).contains(&i) { b' ' } else { b };
    let unsigned: i64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| i64::from(field(i, b)))
        .sum();
    // Some old writers summed the bytes as signed chars.
    let signed: i64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| i64::from(field(i, b) as i8))
        .sum();
    let stored = stored.and_then(|s| i64::try_from(s).ok());
    if stored == Some(unsigned) || stored == Some(signed) {
        Ok(())
    } else {
        Err(format!(
            "not a tar archive, or a damaged one: the header at offset {offset} fails its \
             checksum"
        ))
    }
}

fn read_data(r: &mut impl Read, size: u64, name: &str) -> std::result::Result<Vec<u8>, String> {
    let mut data = Vec::new();
    r.take(size).read_to_end(&mut data).map_err(io_msg)?;
    if (data.len() as u64) < size {
        return Err(format!(
            "truncated: member '{name}' declares {size} bytes, the archive holds {}",
            data.len()
        ));
    }
    Ok(data)
}

fn skip(r: &mut impl Read, n: u64, name: &str) -> std::result::Result<(), String> {
    let got = io::copy(&mut r.take(n), &mut io::sink()).map_err(io_msg)?;
    if got < n {
        return Err(format!(
            "truncated: the archive ends inside member '{name}'"
        ));
    }
    Ok(())
}
