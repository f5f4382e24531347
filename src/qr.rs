//! QR codes of otpauth URIs, for authenticator apps to scan: as Unicode half blocks in a
//! terminal (two modules per character cell) and as a PNG file.
//!
//! Both renderings draw the same modules with a 4-module quiet zone, dark modules dark:
//! the terminal one is qrcode's own half-block renderer, drawn black on white with ANSI
//! colours so it scans whatever the terminal's theme. The PNG goes to any writer: the
//! caller decides where it lands (authctl writes it through `private_file`, as it holds
//! the TOTP secret).

use std::io::{self, Write};

use qrcode::render::unicode::Dense1x2;
use qrcode::{Color, EcLevel, QrCode};

/// Light margin around the code, in modules (the QR standard asks for 4, and qrcode's
/// renderers draw 4).
pub const QUIET_ZONE: usize = 4;
/// PNG pixels per module.
const PNG_SCALE: usize = 8;
/// Black on white, whatever the terminal's theme; and back to the theme.
const ANSI_BLACK_ON_WHITE: &str = "\x1b[30;47m";
const ANSI_RESET: &str = "\x1b[0m";

/// An encoded code, to draw with its quiet zone.
pub struct Grid {
    code: QrCode,
}

impl Grid {
    pub fn encode(data: &str) -> Result<Grid, qrcode::types::QrError> {
        Ok(Grid {
            code: QrCode::with_error_correction_level(data, EcLevel::M)?,
        })
    }

    /// Modules per side, quiet zone included.
    pub fn size(&self) -> usize {
        self.code.width() + 2 * QUIET_ZONE
    }

    /// Is the module at (x, y), counted from the quiet zone's corner, dark?
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        let inner = self.code.width();
        match (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) {
            (Some(x), Some(y)) if x < inner && y < inner => self.code[(x, y)] == Color::Dark,
            _ => false,
        }
    }

    /// qrcode's half blocks, one line per two module rows, each line ended by a newline;
    /// with `ansi`, black on white.
    pub fn to_terminal(&self, ansi: bool) -> String {
        let (start, end) = if ansi {
            (ANSI_BLACK_ON_WHITE, ANSI_RESET)
        } else {
            ("", "")
        };
        let blocks = self.code.render::<Dense1x2>().quiet_zone(true).build();
        blocks
            .lines()
            .map(|line| format!("{start}{line}{end}\n"))
            .collect()
    }

    /// An 8-bit greyscale PNG, `PNG_SCALE` pixels per module.
    pub fn write_png<W: Write>(&self, out: W) -> io::Result<()> {
        let px = self.size() * PNG_SCALE;
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
        assert_eq!(lines.len(), grid.size().div_ceil(2));
        for (row, line) in lines.iter().enumerate() {
            assert_eq!(line.chars().count(), grid.size());
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
        assert!((0..grid.size()).all(|i| !grid.is_dark(i, 0) && !grid.is_dark(0, i)));
    }

    #[test]
    fn on_a_terminal_each_line_is_black_on_white_then_reset() {
        let grid = Grid::encode("otpauth://totp/authd:alice?secret=ABC").unwrap();
        let plain = grid.to_terminal(false);
        let coloured = grid.to_terminal(true);
        assert_eq!(plain.lines().count(), coloured.lines().count());
        for (plain, coloured) in plain.lines().zip(coloured.lines()) {
            assert_eq!(coloured, format!("\x1b[30;47m{plain}\x1b[0m"));
        }
        assert!(coloured.ends_with("\x1b[0m\n"));
    }
}
