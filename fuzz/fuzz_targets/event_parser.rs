//! Fuzzes the event parser (JSONL lines) and the session that applies what it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| livesell_fuzz::events(data));
