//! A minimal reader of MATLAB's Level 5 MAT-file format (what MATLAB's
//! `save` writes by default, `-v6` and `-v7`; not the HDF5-based `-v7.3`),
//! enough for SVHN's `train_32x32.mat` and `test_32x32.mat`: numeric, real,
//! full arrays at the top level of the file.
//!
//! A file is a 128-byte header (descriptive text, a subsystem offset, the
//! version `0x0100` and the byte-order mark `IM` or `MI` in the last two
//! bytes) followed by data elements. Each element is an 8-byte tag (data type
//! and byte count, both `u32`) and its data; a *small* element packs the
//! byte count into the tag's upper 16 bits and up to 4 data bytes into the
//! tag's second word. A variable is an `miMATRIX` element whose
//! sub-elements, each padded to 8 bytes, are its flags (class, complex),
//! dimensions, name and real part; `-v7` files wrap each variable in an
//! `miCOMPRESSED` element, a zlib stream holding the `miMATRIX` element.
//! Top-level elements are not padded. Data are stored column-major (first
//! index fastest), in the data type the tag names, which may be narrower
//! than the array's class (MATLAB stores a double array of small whole
//! numbers as `miUINT8`); [`MatArray::to_f64`] converts.
//!
//! Every size is checked against the bytes present before it is used; a
//! compressed element grows its buffer only as decompressed data arrives.
//! Anything wrong is an [`Error::Data`] naming the file, never a panic.

use std::fs;
use std::io::Read;
use std::path::Path;

use flate2::bufread::ZlibDecoder;

use crate::{Error, Result};

const HEADER_LEN: usize = 128;

// Data types of element tags.
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// Array classes (the low byte of the array-flags word).
pub mod class {
    pub const DOUBLE: u8 = 6;
    pub const SINGLE: u8 = 7;
    pub const INT8: u8 = 8;
    pub const UINT8: u8 = 9;
    pub const INT16: u8 = 10;
    pub const UINT16: u8 = 11;
    pub const INT32: u8 = 12;
    pub const UINT32: u8 = 13;
    pub const INT64: u8 = 14;
    pub const UINT64: u8 = 15;

    /// MATLAB's name of a class, for messages.
    pub fn name(c: u8) -> &'static str {
        match c {
            1 => "cell",
            2 => "struct",
            3 => "object",
            4 => "char",
            5 => "sparse",
            DOUBLE => "double",
            SINGLE => "single",
            INT8 => "int8",
            UINT8 => "uint8",
            INT16 => "int16",
            UINT16 => "uint16",
            INT32 => "int32",
            UINT32 => "uint32",
            INT64 => "int64",
            UINT64 => "uint64",
            _ => "unknown",
        }
    }

    pub fn is_numeric(c: u8) -> bool {
        (DOUBLE..=UINT64).contains(&c)
    }
}

/// The byte order of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// A numeric array read from a MAT file.
#[derive(Debug, Clone, PartialEq)]
pub struct MatArray {
    /// The variable's name.
    pub name: String,
    /// The MATLAB class ([`class`]).
    pub class: u8,
    /// Dimensions, as MATLAB gives them (`[32, 32, 3, N]`).
    pub dims: Vec<usize>,
    /// The data type of the stored real part (`miUINT8`, `miDOUBLE`, ...).
    data_type: u32,
    endian: Endian,
    /// The stored real part, column-major, `len() * size_of(data_type)` bytes.
    data: Vec<u8>,
}

impl MatArray {
    /// Number of elements (the product of the dimensions).
    pub fn len(&self) -> usize {
        self.data.len() / type_size(self.data_type).unwrap_or(1)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The data as stored, when it is stored as `miUINT8` (a `uint8` array).
    pub fn as_u8(&self) -> Option<&[u8]> {
        (self.data_type == MI_UINT8).then_some(&self.data)
    }

    /// Moves the `miUINT8` data out (no copy); `None` for another data type.
    pub fn into_u8(self) -> Option<Vec<u8>> {
        (self.data_type == MI_UINT8).then_some(self.data)
    }

    /// Every element as `f64`, column-major, whatever type stores it.
    pub fn to_f64(&self) -> Vec<f64> {
        let size = type_size(self.data_type).unwrap_or(1);
        let e = self.endian;
        self.data
            .chunks_exact(size)
            .map(|b| decode(self.data_type, e, b))
            .collect()
    }
}

/// Bytes per element of a numeric data type.
fn type_size(t: u32) -> Option<usize> {
    Some(match t {
        MI_INT8 | MI_UINT8 => 1,
        MI_INT16 | MI_UINT16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        _ => return None,
    })
}

fn decode(t: u32, e: Endian, b: &[u8]) -> f64 {
    fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(&b[..N]);
        a
    }
    macro_rules! num {
        ($ty:ty, $n:literal) => {
            match e {
                Endian::Little => <$ty>::from_le_bytes(arr::<$n>(b)),
                Endian::Big => <$ty>::from_be_bytes(arr::<$n>(b)),
            }
        };
    }
    match t {
        MI_INT8 => f64::from(b[0] as i8),
        MI_UINT8 => f64::from(b[0]),
        MI_INT16 => f64::from(num!(i16, 2)),
        MI_UINT16 => f64::from(num!(u16, 2)),
        MI_INT32 => f64::from(num!(i32, 4)),
        MI_UINT32 => f64::from(num!(u32, 4)),
        MI_SINGLE => f64::from(num!(f32, 4)),
        MI_DOUBLE => num!(f64, 8),
        MI_INT64 => num!(i64, 8) as f64,
        MI_UINT64 => num!(u64, 8) as f64,
        _ => f64::NAN,
    }
}

fn type_name(t: u32) -> String {
    match t {
        MI_INT8 => "miINT8".into(),
        MI_UINT8 => "miUINT8".into(),
        MI_INT16 => "miINT16".into(),
        MI_UINT16 => "miUINT16".into(),
        MI_INT32 => "miINT32".into(),
        MI_UINT32 => "miUINT32".into(),
        MI_SINGLE => "miSINGLE".into(),
        MI_DOUBLE => "miDOUBLE".into(),
        MI_INT64 => "miINT64".into(),
        MI_UINT64 => "miUINT64".into(),
        MI_MATRIX => "miMATRIX".into(),
        MI_COMPRESSED => "miCOMPRESSED".into(),
        other => format!("data type {other}"),
    }
}

/// One element's tag, located in a buffer.
struct Tag {
    data_type: u32,
    /// Start and end of the data in the buffer.
    start: usize,
    end: usize,
    /// Where the next element starts, with sub-element padding.
    next_padded: usize,
}

fn u32_at(buf: &[u8], pos: usize, e: Endian) -> Option<u32> {
    let b: [u8; 4] = buf.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
    Some(match e {
        Endian::Little => u32::from_le_bytes(b),
        Endian::Big => u32::from_be_bytes(b),
    })
}

/// Reads the tag at `pos` of `buf`; `what` names the element for messages.
fn tag_at(buf: &[u8], pos: usize, e: Endian, what: &str) -> std::result::Result<Tag, String> {
    let (w0, w1) = match (u32_at(buf, pos, e), u32_at(buf, pos + 4, e)) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            return Err(format!(
                "truncated: {what} needs an 8-byte tag at offset {pos}, {} bytes left",
                buf.len().saturating_sub(pos)
            ))
        }
    };
    if w0 >> 16 != 0 {
        // Small data element: [type: u16][bytes: u16] as one u32, data in w1's bytes.
        let n = (w0 >> 16) as usize;
        if n > 4 {
            return Err(format!(
                "{what}: small data element at offset {pos} claims {n} bytes (at most 4)"
            ));
        }
        let _ = w1;
        return Ok(Tag {
            data_type: w0 & 0xffff,
            start: pos + 4,
            end: pos + 4 + n,
            next_padded: pos + 8,
        });
    }
    let n = w1 as usize;
    let start = pos + 8;
    let end = start.checked_add(n).filter(|&end| end <= buf.len());
    let Some(end) = end else {
        return Err(format!(
            "truncated: {what} at offset {pos} ({}) declares {n} bytes, {} are left",
            type_name(w0),
            buf.len() - start
        ));
    };
    Ok(Tag {
        data_type: w0,
        start,
        end,
        next_padded: end.saturating_add((8 - n % 8) % 8).min(buf.len().max(end)),
    })
}

/// The variables of the MAT file `path` named in `wanted`, in that order
/// (`None` for a name the file does not hold). Other variables are skipped
/// unread; a wanted one that is not a real numeric array is an error.
pub fn read_vars(path: &Path, wanted: &[&str]) -> Result<Vec<Option<MatArray>>> {
    let bytes = fs::read(path).map_err(|e| Error::read(path, e))?;
    parse(&bytes, wanted).map_err(|msg| Error::Data {
        file: path.to_path_buf(),
        msg,
    })
}

/// [`read_vars`] on the file's bytes.
pub fn parse(bytes: &[u8], wanted: &[&str]) -> std::result::Result<Vec<Option<MatArray>>, String> {
    let endian = header(bytes)?;
    let mut found: Vec<Option<MatArray>> = vec![None; wanted.len()];
    let mut pos = HEADER_LEN;
    // A few zero bytes of padding at the end are not an element.
    while bytes.len().saturating_sub(pos) >= 8 {
        let tag = tag_at(bytes, pos, endian, "a top-level element")?;
        let data = &bytes[tag.start..tag.end];
        let array = match tag.data_type {
            MI_MATRIX => matrix(data, endian, wanted, pos)?.map(|(mut a, r)| {
                a.data = data[r].to_vec();
                a
            }),
            MI_COMPRESSED => {
                let mut inner = inflate(data, endian, pos)?;
                let itag = tag_at(&inner, 0, endian, "the compressed element")?;
                if itag.data_type != MI_MATRIX {
                    return Err(format!(
                        "the compressed element at offset {pos} holds {}, not miMATRIX",
                        type_name(itag.data_type)
                    ));
                }
                match matrix(&inner[itag.start..itag.end], endian, wanted, pos)? {
                    // Keep the decompressed buffer as the data, without a copy.
                    Some((mut a, r)) => {
                        inner.truncate(itag.start + r.end);
                        inner.drain(..itag.start + r.start);
                        a.data = inner;
                        Some(a)
                    }
                    None => None,
                }
            }
            // Anything else at the top level (padding, another type) is skipped.
            _ => None,
        };
        if let Some(a) = array {
            if let Some(i) = wanted.iter().position(|w| *w == a.name) {
                if found[i].is_some() {
                    return Err(format!("variable '{}' appears twice", a.name));
                }
                found[i] = Some(a);
            }
        }
        // Top-level elements are not padded (what MATLAB and scipy write).
        pos = tag.end;
    }
    Ok(found)
}

/// Checks the 128-byte header and returns the byte order.
fn header(bytes: &[u8]) -> std::result::Result<Endian, String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "truncated: {} bytes, shorter than the {HEADER_LEN}-byte MAT-file header",
            bytes.len()
        ));
    }
    let endian = match &bytes[126..128] {
        b"IM" => Endian::Little,
        b"MI" => Endian::Big,
        other => {
            return Err(format!(
                "not a Level 5 MAT file: bad byte-order mark 0x{:02x}{:02x} at offset 126 \
                 (expected 'IM' or 'MI')",
                other[0], other[1]
            ))
        }
    };
    let version = match endian {
        Endian::Little => u16::from_le_bytes([bytes[124], bytes[125]]),
        Endian::Big => u16::from_be_bytes([bytes[124], bytes[125]]),
    };
    if version == 0x0200 {
        return Err(
            "an HDF5-based MAT file (MATLAB's -v7.3); only Level 5 MAT files \
                    (-v6, -v7) are read"
                .into(),
        );
    }
    if version != 0x0100 {
        return Err(format!(
            "MAT-file version 0x{version:04x}, expected 0x0100 (Level 5)"
        ));
    }
    Ok(endian)
}

/// Decompresses an `miCOMPRESSED` element's data: the inner tag first, then
/// exactly the bytes it declares.
fn inflate(data: &[u8], e: Endian, pos: usize) -> std::result::Result<Vec<u8>, String> {
    let zerr = |err: std::io::Error| {
        format!("corrupt or truncated compressed element at offset {pos}: {err}")
    };
    let mut z = ZlibDecoder::new(data);
    let mut tag = [0u8; 8];
    z.read_exact(&mut tag).map_err(zerr)?;
    let w0 = u32_at(&tag, 0, e).unwrap_or(0);
    let declared = if w0 >> 16 != 0 {
        0
    } else {
        u32_at(&tag, 4, e).unwrap_or(0) as u64
    };
    let mut out = tag.to_vec();
    // Deflate expands at most about 1032-fold, so a larger declared size
    // cannot be true: reserve no more than the stream could hold.
    let most = (data.len() as u64).saturating_mul(1032);
    out.reserve(usize::try_from(declared.min(most)).unwrap_or(0));
    (&mut z)
        .take(declared)
        .read_to_end(&mut out)
        .map_err(zerr)?;
    if (out.len() as u64) < 8 + declared {
        return Err(format!(
            "truncated: the compressed element at offset {pos} declares {declared} bytes, \
             its stream holds {}",
            out.len() - 8
        ));
    }
    Ok(out)
}

/// Reads an `miMATRIX` element's data (after its tag): the array with empty
/// `data` and the range of `m` its data occupies. `None` for a variable not
/// in `wanted`.
fn matrix(
    m: &[u8],
    e: Endian,
    wanted: &[&str],
    pos: usize,
) -> std::result::Result<Option<(MatArray, std::ops::Range<usize>)>, String> {
    let at = |what: &str| format!("{what} of the variable at offset {pos}");
    let flags = tag_at(m, 0, e, &at("the array flags"))?;
    let flag_word = u32_at(m, flags.start, e)
        .filter(|_| flags.end - flags.start >= 4)
        .ok_or_else(|| format!("{}: too short", at("the array flags")))?;
    let class = (flag_word & 0xff) as u8;
    let complex = flag_word & 0x0800 != 0;
    let dims_tag = tag_at(m, flags.next_padded, e, &at("the dimensions"))?;
    if dims_tag.data_type != MI_INT32 {
        return Err(format!(
            "{} are {}, expected miINT32",
            at("the dimensions"),
            type_name(dims_tag.data_type)
        ));
    }
    let dims: Vec<usize> = m[dims_tag.start..dims_tag.end]
        .chunks_exact(4)
        .map(|b| u32_at(b, 0, e).unwrap_or(0) as i32)
        .map(|d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
        .collect::<std::result::Result<_, _>>()?;
    let name_tag = tag_at(m, dims_tag.next_padded, e, &at("the name"))?;
    let name = String::from_utf8_lossy(&m[name_tag.start..name_tag.end]).into_owned();
    if !wanted.contains(&name.as_str()) {
        return Ok(None);
    }
    if !class::is_numeric(class) {
        return Err(format!(
            "variable '{name}' is a {} array, expected a numeric one",
            class::name(class)
        ));
    }
    if complex {
        return Err(format!(
            "variable '{name}' is complex, expected a real array"
        ));
    }
    let real = tag_at(
        m,
        name_tag.next_padded,
        e,
        &format!("variable '{name}''s data"),
    )?;
    let size = type_size(real.data_type).ok_or_else(|| {
        format!(
            "variable '{name}' stores its data as {}, not a numeric type",
            type_name(real.data_type)
        )
    })?;
    let bytes = real.end - real.start;
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("variable '{name}': dimensions {dims:?} overflow"))?;
    if !bytes.is_multiple_of(size) || bytes / size != count {
        return Err(format!(
            "variable '{name}' is {} ({count} elements) but its data holds {bytes} bytes of {} \
             ({} elements)",
            dims_str(&dims),
            type_name(real.data_type),
            bytes / size
        ));
    }
    Ok(Some((
        MatArray {
            name,
            class,
            dims,
            data_type: real.data_type,
            endian: e,
            data: Vec::new(),
        },
        real.start..real.end,
    )))
}

/// `32x32x3x100`, for messages.
pub fn dims_str(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}
