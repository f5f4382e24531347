//! The enrolment QR code against a real reader: zbarimg decodes both renderings, the
//! PNG authctl writes and the terminal's half-block drawing (redrawn as a PNG), to the
//! otpauth URI.

use std::path::Path;
use std::process::Command;

use crate::daemon::*;

/// The module grid drawn by authctl in the terminal, read back from half blocks.
fn grid_from_terminal(text: &str) -> Vec<Vec<bool>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let (top, bottom): (Vec<bool>, Vec<bool>) = line
            .chars()
            .map(|c| match c {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                _ => (false, false),
            })
            .unzip();
        rows.push(top);
        rows.push(bottom);
    }
    rows
}

fn write_png(grid: &[Vec<bool>], path: &Path) {
    const SCALE: usize = 6;
    let w = grid.iter().map(Vec::len).max().unwrap() * SCALE;
    let h = grid.len() * SCALE;
    let mut pixels = vec![255u8; w * h];
    for (y, row) in grid.iter().enumerate() {
        for (x, &dark) in row.iter().enumerate() {
            if dark {
                for dy in 0..SCALE {
                    let start = (y * SCALE + dy) * w + x * SCALE;
                    pixels[start..start + SCALE].fill(0);
                }
            }
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(file, w as u32, h as u32);
    enc.set_color(png::ColorType::Grayscale);
    let mut writer = enc.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
}

fn zbarimg(path: &Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "zbarimg found no code in {path:?}");
    stdout(&out).trim().to_string()
}

#[test]
fn the_png_and_the_terminal_qr_code_decode_to_the_otpauth_uri() {
    if !have("zbarimg") {
        return;
    }
    let d = Daemon::start();
    d.user_with_password("gina");
    let png = d.dir.path().join("qr.png");
    let out = d.ctl(&["enable-totp", "gina", "--qr-png", png.to_str().unwrap()]);
    assert_ok(&out);
    let text = stdout(&out);
    let uri = text
        .lines()
        .find_map(|l| l.strip_prefix("otpauth URI: "))
        .unwrap()
        .to_string();
    assert!(
        uri.starts_with("otpauth://totp/authd:gina?secret="),
        "{uri}"
    );
    assert_eq!(zbarimg(&png), uri);

    let qr: String = text
        .lines()
        .skip_while(|l| !l.contains('█') && !l.contains('▀') && !l.contains('▄'))
        .take_while(|l| !l.starts_with("Or enter"))
        .map(|l| format!("{l}\n"))
        .collect();
    let rendered = d.dir.path().join("terminal.png");
    write_png(&grid_from_terminal(&qr), &rendered);
    assert_eq!(zbarimg(&rendered), uri);
}
