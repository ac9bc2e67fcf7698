//! Replays the committed fuzz corpus (fuzz/corpus) through the fuzz targets' own checks, so every input the fuzzer kept stays panic-free in CI without a nightly toolchain.

#[path = "../../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

use livesell_core::adapters::Format;

fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).expect("a corpus file");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(caught.is_ok(), "{target}: {} panics", path.display());
        n += 1;
    }
    n
}

#[test]
fn the_event_parser_corpus_replays() {
    assert!(replay("event_parser", checks::events) > 0);
}

#[test]
fn the_sessions_corpus_replays() {
    assert!(replay("sessions", checks::sessions) > 0);
}

#[test]
fn the_grammar_corpus_replays() {
    assert!(replay("grammar", checks::grammar) > 0);
}

#[test]
fn every_adapter_corpus_replays() {
    for (name, format) in Format::ALL {
        let target = format!("adapter_{}", name.replace('-', "_"));
        assert!(
            replay(&target, |d| checks::adapter(format, d)) > 0,
            "{target}"
        );
    }
}
