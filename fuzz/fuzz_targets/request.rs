//! Any payload decoded as a request or a response; a request that decodes must encode
//! back to a frame that decodes to the same request.
#![no_main]

use authd::codec;
use authd::protocol::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = codec::decode::<Request>(data) {
        let frame = codec::encode(&request).expect("a decoded request encodes");
        let payload = codec::read_frame_blocking(&mut &frame[..]).expect("its frame reads");
        assert_eq!(codec::decode::<Request>(&payload).expect("and decodes"), request);
    }
    let _ = codec::decode::<Response>(data);
});
