//! The adversarial example grid: per attack (and scope), for each loss's
//! lowest seed, a row of clean images, a row of their adversarial versions
//! and a row of perturbations, from the `examples` table.
//!
//! Images are embedded as PNG data URIs (`<image href="data:image/png;…">`)
//! in a hand-written SVG (plotters' SVG backend does not embed bitmaps), so
//! the file, and the HTML page that inlines it, needs nothing else. Pixels
//! stay pixels when scaled up (`image-rendering: pixelated`).

use std::fmt::Write;
use std::path::PathBuf;

use base64::Engine;

use super::plot::{Ctx, PlotKind, Plots, Scope};
use crate::results::{ExampleRow, RunTables};
use crate::{Error, Result};

/// Images are scaled by a whole factor to about this many pixels across.
const TARGET_PX: u64 = 60;
const ROW_LABEL_W: u64 = 100;
const GAP: u64 = 8;
const CAPTION_H: u64 = 18;
const HEADER_H: u64 = 28;
const TITLE_H: u64 = 44;
const KINDS: [(&str, &str); 3] = [
    ("clean", "clean"),
    ("adversarial", "adversarial"),
    ("perturbation", "perturbation"),
];
/// Caption colours: the attack succeeded (prediction ≠ label) or not.
const SUCCESS: &str = "#c62828";
const FAILURE: &str = "#2e7d32";

/// One sample: its images by kind, in [`KINDS`] order.
struct Sample {
    label: u64,
    pred_adv: u64,
    png: [Option<Image>; 3],
}

/// A PNG and its size in pixels.
#[derive(Debug)]
struct Image {
    width: u64,
    height: u64,
    data_uri: String,
}

/// One loss's block of the grid.
struct Block<'a> {
    loss: &'a str,
    seed: u64,
    colour: String,
    samples: Vec<Sample>,
}

/// Adds one grid per (scope, attack) with examples.
pub(super) fn plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    let mut figures: Vec<(Scope<'_>, &str)> = Vec::new();
    for r in &t.examples {
        let f = (ctx.scope(&r.job_id), r.attack.as_str());
        if !figures.contains(&f) {
            figures.push(f);
        }
    }
    figures.sort_by_key(|&((d, m), a)| ctx.order.key(d, m, "", a, ""));
    for &(scope, attack) in &figures {
        let here = || {
            t.examples
                .iter()
                .filter(move |r| r.attack == attack && ctx.scope(&r.job_id) == scope)
        };
        let firsts = ctx.lowest_seed(here().map(|r| (r.job_id.as_str(), r.loss.as_str(), r.seed)));
        let mut blocks = Vec::new();
        for job in firsts {
            let rows: Vec<&ExampleRow> = here().filter(|r| r.job_id == job.job_id).collect();
            let c = ctx.order.loss_colour(job.loss);
            blocks.push(Block {
                loss: job.loss,
                seed: job.seed,
                colour: format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2),
                samples: samples(&rows)?,
            });
        }
        let title = ctx.title(&format!("Adversarial examples: {attack}"), scope);
        let stem = ctx.stem("examples", scope, &[attack]);
        out.push(PlotKind::Examples, title.clone(), &stem, || {
            Ok(grid(&title, scope.0, &blocks))
        })?;
    }
    Ok(())
}

/// The job's samples in the order of their first row (the runner stores
/// successful examples first).
fn samples(rows: &[&ExampleRow]) -> Result<Vec<Sample>> {
    let mut out: Vec<(u64, Sample)> = Vec::new();
    for r in rows {
        let Some(k) = KINDS.iter().position(|(kind, _)| *kind == r.kind) else {
            continue;
        };
        let image = png_uri(r)?;
        match out.iter_mut().find(|(s, _)| *s == r.sample) {
            Some((_, s)) => s.png[k] = Some(image),
            None => {
                let mut s = Sample {
                    label: r.label,
                    pred_adv: r.pred_adv,
                    png: [None, None, None],
                };
                s.png[k] = Some(image);
                out.push((r.sample, s));
            }
        }
    }
    Ok(out.into_iter().map(|(_, s)| s).collect())
}

fn malformed(r: &ExampleRow, msg: String) -> Error {
    Error::Results {
        file: PathBuf::from("examples.parquet"),
        msg: format!(
            "job {} ({}), attack {}, sample {} ({}): {msg}",
            r.job_id, r.loss, r.attack, r.sample, r.kind
        ),
    }
}

/// The row's `[C, H, W]` hex pixels as a PNG data URI (C = 1 grey, 3 RGB).
fn png_uri(r: &ExampleRow) -> Result<Image> {
    let (c, h, w) = (r.channels, r.height, r.width);
    if !(c == 1 || c == 3) || h == 0 || w == 0 || h > 4096 || w > 4096 {
        return Err(malformed(
            r,
            format!("unsupported image shape [{c}, {h}, {w}]"),
        ));
    }
    let bytes = hex(&r.pixels).ok_or_else(|| malformed(r, "pixels are not hex".into()))?;
    let (c, h, w) = (c as usize, h as usize, w as usize);
    if bytes.len() != c * h * w {
        return Err(malformed(
            r,
            format!("{} bytes for shape [{c}, {h}, {w}]", bytes.len()),
        ));
    }
    // [C, H, W] → row-major pixels with interleaved channels.
    let mut pixels = Vec::with_capacity(bytes.len());
    for i in 0..h * w {
        for ch in 0..c {
            pixels.push(bytes[ch * h * w + i]);
        }
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w as u32, h as u32);
        enc.set_color(if c == 1 {
            png::ColorType::Grayscale
        } else {
            png::ColorType::Rgb
        });
        enc.set_depth(png::BitDepth::Eight);
        let encode = |e: png::EncodingError| malformed(r, format!("cannot encode PNG: {e}"));
        let mut writer = enc.write_header().map_err(encode)?;
        writer.write_image_data(&pixels).map_err(encode)?;
        writer.finish().map_err(encode)?;
    }
    Ok(Image {
        width: w as u64,
        height: h as u64,
        data_uri: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&png_bytes)
        ),
    })
}

/// Lower- or upper-case hex, two digits per byte.
fn hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let val = |d: u8| (d as char).to_digit(16).map(|v| v as u8);
    digits
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

/// Text safe in SVG/XML content and attribute values.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            // XML 1.0 forbids other control characters.
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The grid as an SVG document.
fn grid(title: &str, dataset: &str, blocks: &[Block<'_>]) -> String {
    let side = blocks
        .iter()
        .flat_map(|b| &b.samples)
        .flat_map(|s| s.png.iter().flatten())
        .map(|i| i.width.max(i.height))
        .max()
        .unwrap_or(TARGET_PX);
    let scale = ((TARGET_PX as f64 / side.max(1) as f64).round() as u64).max(1);
    let cell = side * scale;
    let columns = blocks.iter().map(|b| b.samples.len()).max().unwrap_or(0) as u64;
    // Wide enough for the grid and for the title (about 0.55 em a character).
    let title_w = title.chars().count() as u64 * 11 + 48;
    let width = (ROW_LABEL_W + columns * (cell + GAP) + GAP)
        .max(title_w)
        .max(420);
    let block_h = HEADER_H + 3 * (cell + CAPTION_H + 4) + GAP;
    let height = TITLE_H + block_h * blocks.len() as u64 + 8;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">"#
    );
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="19.4">{}</text>"#,
        width / 2,
        xml_escape(title)
    );
    let mut y = TITLE_H;
    for b in blocks {
        let _ = writeln!(
            s,
            r#"<text x="8" y="{}" font-size="15" font-weight="bold" fill="{}">{} (seed {})</text>"#,
            y + 18,
            b.colour,
            xml_escape(b.loss),
            b.seed
        );
        y += HEADER_H;
        for (k, (_, row_label)) in KINDS.iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="8" y="{}" font-size="13" fill="#333333">{row_label}</text>"##,
                y + cell / 2 + 4
            );
            for (i, sample) in b.samples.iter().enumerate() {
                let x = ROW_LABEL_W + i as u64 * (cell + GAP);
                if let Some(img) = &sample.png[k] {
                    let (iw, ih) = (img.width * scale, img.height * scale);
                    let _ = writeln!(
                        s,
                        r#"<image x="{x}" y="{y}" width="{iw}" height="{ih}" style="image-rendering:pixelated" href="{}"/>"#,
                        img.data_uri
                    );
                    let _ = writeln!(
                        s,
                        r##"<rect x="{x}" y="{y}" width="{iw}" height="{ih}" fill="none" stroke="#BBBBBB" stroke-width="1"/>"##
                    );
                }
                // Class names where the dataset has them (under the clean
                // image the true class, under the adversarial one the
                // prediction), else the label numbers.
                let named = |label: u64, prefix: &str| {
                    crate::data::class_name(dataset, label)
                        .map_or_else(|| format!("{prefix}{label}"), str::to_owned)
                };
                let caption = match k {
                    0 => Some((named(sample.label, "y="), "#333333")),
                    1 => Some((
                        named(sample.pred_adv, "pred "),
                        if sample.pred_adv != sample.label {
                            SUCCESS
                        } else {
                            FAILURE
                        },
                    )),
                    _ => None,
                };
                if let Some((text, fill)) = caption {
                    let _ = writeln!(
                        s,
                        r#"<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{fill}">{}</text>"#,
                        x + cell / 2,
                        y + cell + 14,
                        xml_escape(&text)
                    );
                }
            }
            y += cell + CAPTION_H + 4;
        }
        y += GAP;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, c: u64, h: u64, w: u64, pixels: &str) -> ExampleRow {
        ExampleRow {
            job_id: "j".into(),
            loss: "softmax".into(),
            seed: 0,
            attack: "fgsm(eps=0.1)".into(),
            sample: 3,
            label: 1,
            pred_adv: 2,
            kind: kind.into(),
            channels: c,
            height: h,
            width: w,
            pixels: pixels.into(),
        }
    }

    /// `(width, height, pixel bytes)` of a `data:image/png;base64,` URI.
    fn decode(uri: &str) -> (u32, u32, Vec<u8>) {
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn hex_pixels_become_a_png_data_uri() {
        assert_eq!(hex("00ff7F"), Some(vec![0, 255, 127]));
        assert_eq!(hex("0"), None);
        assert_eq!(hex("zz"), None);

        let img = png_uri(&row("clean", 1, 2, 2, "00ff8040")).unwrap();
        assert_eq!((img.width, img.height), (2, 2));
        assert_eq!(decode(&img.data_uri), (2, 2, vec![0, 255, 128, 64]));

        // RGB: planes [C, H, W] are interleaved per pixel.
        let img = png_uri(&row("clean", 3, 1, 2, "0102"))
            .err()
            .map(|e| e.to_string());
        assert!(img.unwrap().contains("2 bytes for shape [3, 1, 2]"));
        let img = png_uri(&row("clean", 3, 1, 2, "0a0b141528 29")).is_err();
        assert!(img, "a space is not hex");
        let img = png_uri(&row("clean", 3, 1, 2, "0a0b14152829")).unwrap();
        assert_eq!(
            decode(&img.data_uri),
            (2, 1, vec![0x0a, 0x14, 0x28, 0x0b, 0x15, 0x29])
        );

        let err = png_uri(&row("clean", 2, 1, 1, "0000"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported image shape [2, 1, 1]"), "{err}");
    }

    #[test]
    fn captions_name_the_classes_where_the_dataset_has_names() {
        let rows = [
            row("clean", 1, 2, 2, "00ff8040"),
            row("adversarial", 1, 2, 2, "00ff8040"),
        ];
        let refs: Vec<&ExampleRow> = rows.iter().collect();
        let block = |samples| Block {
            loss: "softmax",
            seed: 0,
            colour: "#000000".into(),
            samples,
        };
        // Label 1, adversarial prediction 2.
        let fashion = grid("t", "fashion-mnist", &[block(samples(&refs).unwrap())]);
        assert!(fashion.contains(">Trouser</text>") && fashion.contains(">Pullover</text>"));
        let digits = grid("t", "mnist", &[block(samples(&refs).unwrap())]);
        assert!(digits.contains(">y=1</text>") && digits.contains(">pred 2</text>"));
        assert_eq!(crate::data::class_name("cifar10", 9), Some("truck"));
        assert_eq!(crate::data::class_name("fashion-mnist", 10), None);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            xml_escape(r#"a<b & "c">"#),
            "a&lt;b &amp; &quot;c&quot;&gt;"
        );
    }
}
