//! Fuzzes the claim grammar: any comment text, with and without keyword packs and the plus form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| livesell_fuzz::grammar(data));
