//! The `livesell` binary end to end: the SPEC's worked example, bad lines, exit codes.

use std::process::Command;

fn livesell() -> Command {
    Command::new(env!("CARGO_BIN_EXE_livesell"))
}

fn summary(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_worked_example_timeline_ends_as_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    for workers in ["1", "2"] {
        let out = dir.path().join(workers);
        let st = livesell()
            .args(["run", "--quiet", "--workers", workers, "--input"])
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/datasets/worked-example.jsonl"
            ))
            .arg("--out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        let s = &summary(&out)["sessions"]["worked-example"];
        assert_eq!(s["gmv_cents"], 5000);
        assert_eq!(s["units_sold"], 2);
        assert_eq!(s["held_units"], 2);
        assert_eq!(s["oversells"], 1);
        assert_eq!(s["skus"]["K1"]["pool"], 3);
        assert_eq!(s["skus"]["K1"]["available"], -1);
        let decisions = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
        assert!(decisions.contains(r#""id":"res:instagram:c4/expired""#));
        assert!(decisions.contains(r#""id":"res:youtube:c3/created""#));
        assert!(out.join("snapshots/gmv_minute.parquet").exists());
    }
}

#[test]
fn bad_lines_go_to_the_dead_letter_file_and_the_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(br#"{"type":"director","session_id":"s","ts":1,"action":"product","code":"K1","price_cents":1,"variants":[{"sku":"K1","stock":1}]}"#);
    bytes.extend_from_slice(b"\n{broken\n\n");
    bytes.extend_from_slice(b"{\"type\":\"comment\",\"text\":\"\xff\"}\n");
    bytes.extend_from_slice(br#"{"type":"launch","session_id":"s","ts":2}"#);
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(
        format!(r#"{{"type":"comment","text":"{}"}}"#, "x".repeat(70_000)).as_bytes(),
    );
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(br#"{"type":"comment","session_id":"s","ts":3,"platform":"tiktok","comment_id":"1","user_id":"u","text":"sold K1"}"#);
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out");
    let st = livesell()
        .args(["run", "--quiet", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let dead: Vec<serde_json::Value> = std::fs::read_to_string(out.join("dead_letter.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reasons: Vec<(&str, u64)> = dead
        .iter()
        .map(|d| (d["reason"].as_str().unwrap(), d["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("invalid_json", 2),
            ("invalid_utf8", 4),
            ("unknown_type", 5),
            ("line_too_long", 6)
        ]
    );
    assert_eq!(
        dead[1]["raw_base64"],
        "eyJ0eXBlIjoiY29tbWVudCIsInRleHQiOiL/In0="
    );
    let decisions = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_eq!(decisions.matches(r#""kind":"reject""#).count(), 4);
    assert!(decisions.contains(r#""id":"tiktok:1/reserved/K1""#));
    assert_eq!(summary(&out)["dead_letters"], 4);
}

#[test]
fn gzip_and_stdin_inputs_are_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/worked-example.jsonl"
    ))
    .unwrap();
    let gz = dir.path().join("show.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&example).unwrap();
    enc.finish().unwrap();
    let st = livesell()
        .args(["run", "--quiet", "--input"])
        .arg(&gz)
        .arg("--out")
        .arg(dir.path().join("gz"))
        .status()
        .unwrap();
    assert!(st.success());
    let mut child = livesell()
        .args(["run", "--quiet", "--input", "-", "--out"])
        .arg(dir.path().join("stdin"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&example).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("gz/decisions.jsonl")).unwrap(),
        std::fs::read_to_string(dir.path().join("stdin/decisions.jsonl")).unwrap()
    );
}

#[test]
fn a_missing_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = livesell()
        .args(["run", "--input", "/nonexistent.jsonl", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open /nonexistent.jsonl"));
}
