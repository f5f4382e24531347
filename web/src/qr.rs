//! The QR code of an otpauth URI as a PNG `data:` URL, for the enrolment page's inline
//! image (`#totp-qr`): 8-bit greyscale, dark modules black, a 4-module quiet zone.
//! The page that shows it widens its Content-Security-Policy by `img-src 'self' data:`
//! ([`IMG_CSP`]), and only that page.

use base64::Engine;
use qrcode::{Color, EcLevel, QrCode};

/// The enrolment page's policy: the usual one, plus inline `data:` images.
pub const IMG_CSP: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
                           form-action 'self'; base-uri 'none'";

/// Light margin around the code, in modules (the QR standard's 4).
const QUIET_ZONE: usize = 4;
/// PNG pixels per module.
const SCALE: usize = 6;

/// `data:image/png;base64,…` of the QR code of `text`; `None` if it does not fit a code.
pub fn data_url(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text, EcLevel::M).ok()?;
    let inner = code.width();
    let modules = inner + 2 * QUIET_ZONE;
    let px = modules * SCALE;
    let dark = |x: usize, y: usize| match (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) {
        (Some(x), Some(y)) if x < inner && y < inner => code[(x, y)] == Color::Dark,
        _ => false,
    };
    let mut pixels = vec![255u8; px * px];
    for y in 0..px {
        for x in 0..px {
            if dark(x / SCALE, y / SCALE) {
                pixels[y * px + x] = 0;
            }
        }
    }
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, px as u32, px as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png_bytes);
    Some(format!("data:image/png;base64,{b64}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_a_png_of_the_right_size() {
        let url = data_url("otpauth://totp/authd:alice?secret=ABCDEFGH").unwrap();
        let b64 = url.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width as usize % SCALE, 0);
        assert!(info.width as usize / SCALE > 2 * QUIET_ZONE + 20);
    }
}
