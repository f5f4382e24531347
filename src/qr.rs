//! QR codes of otpauth URIs, for authenticator apps to scan: as Unicode half blocks in a
//! terminal (two modules per character cell) and as a PNG file.
//!
//! Both renderings come from one module grid with a 4-module quiet zone, dark modules
//! dark. The PNG goes to any writer: the caller decides where it lands (authctl writes it
//! through `private_file`, as it holds the TOTP secret). On a terminal the block is drawn black on white with ANSI colours, so it scans
//! whatever the terminal's theme.

use std::io::{self, Write};

use qrcode::{Color, EcLevel, QrCode};

/// Light margin around the code, in modules (the QR standard asks for 4).
pub const QUIET_ZONE: usize = 4;
/// PNG pixels per module.
const PNG_SCALE: usize = 8;

/// The module grid including the quiet zone: `true` is dark.
pub struct Grid {
    pub size: usize,
    dark: Vec<bool>,
}

impl Grid {
    pub fn encode(data: &str) -> Result<Grid, qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(data, EcLevel::M)?;
        let inner = code.width();
        let size = inner + 2 * QUIET_ZONE;
        let mut dark = vec![false; size * size];
        for y in 0..inner {
            for x in 0..inner {
                dark[(y + QUIET_ZONE) * size + x + QUIET_ZONE] = code[(x, y)] == Color::Dark;
            }
        }
        Ok(Grid { size, dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark[y * self.size + x]
    }

    /// Half-block text, one line per two module rows; with `ansi`, black on white.
    pub fn to_terminal(&self, ansi: bool) -> String {
        let mut out = String::new();
        for y in (0..self.size).step_by(2) {
            if ansi {
                out.push_str("\x1b[30;47m");
            }
            for x in 0..self.size {
                out.push(match (self.is_dark(x, y), self.is_dark(x, y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            if ansi {
                out.push_str("\x1b[0m");
            }
            out.push('\n');
        }
        out
    }

    /// An 8-bit greyscale PNG, `PNG_SCALE` pixels per module.
    pub fn write_png<W: Write>(&self, out: W) -> io::Result<()> {
        let px = self.size * PNG_SCALE;
        let mut pixels = vec![255u8; px * px];
        for y in 0..px {
            for x in 0..px {
                if self.is_dark(x / PNG_SCALE, y / PNG_SCALE) {
                    pixels[y * px + x] = 0;
                }
            }
        }
        let mut encoder = png::Encoder::new(out, px as u32, px as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(io::Error::other)?;
        writer.write_image_data(&pixels).map_err(io::Error::other)?;
        writer.finish().map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_rendering_keeps_every_module() {
        let grid = Grid::encode("otpauth://totp/authd:alice?secret=ABC").unwrap();
        let text = grid.to_terminal(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), grid.size.div_ceil(2));
        for (row, line) in lines.iter().enumerate() {
            for (x, c) in line.chars().enumerate() {
                let (top, bottom) = match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    _ => (false, false),
                };
                assert_eq!(top, grid.is_dark(x, 2 * row));
                assert_eq!(bottom, grid.is_dark(x, 2 * row + 1));
            }
        }
        // The quiet zone is light all round.
        assert!((0..grid.size).all(|i| !grid.is_dark(i, 0) && !grid.is_dark(0, i)));
    }
}
