//! Fuzzes whole shows: several sessions' events ordered as SPEC 2 says, applied, and their timers fired.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| livesell_fuzz::sessions(data));
