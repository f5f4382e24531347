//! Where the key is: a FIDO2 key on USB, or, in test builds only, a software token.

#[cfg(all(feature = "usb", not(feature = "softtoken")))]
#[path = "device/usb.rs"]
mod imp;

#[cfg(feature = "softtoken")]
#[path = "device/soft.rs"]
mod imp;

#[cfg(not(any(feature = "usb", feature = "softtoken")))]
compile_error!("authd-key needs its `usb` feature (on by default) to reach security keys");

// The software token is for test builds only: a release build must reach real keys.
#[cfg(all(feature = "softtoken", not(debug_assertions)))]
compile_error!("the `softtoken` feature is for test builds only, never for release builds");

pub use imp::*;
