//! Any byte stream read as frames: the length check and the decoders must answer with
//! an error, never panic, hang or allocate past the frame limit.
#![no_main]

use authd::codec;
use authd::protocol::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(payload) = codec::read_frame_blocking(&mut input) {
        let _ = codec::decode::<Request>(&payload);
    }
});
