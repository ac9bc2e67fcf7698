//! Fuzzes the `instagram-webhook` adapter: any bytes in, no panic, and every comment out is a canonical event the pipeline accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livesell_core::adapters::Format;

fuzz_target!(|data: &[u8]| {
    livesell_fuzz::adapter(Format::InstagramWebhook, data);
});
