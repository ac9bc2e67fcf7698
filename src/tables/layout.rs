//! Where snapshot files go: `snapshots/<table>/date=YYYY-MM-DD/<session>.parquet`, Hive-style,
//! one file per table and session, written once at the session's close (schemas/snapshots.md).

use std::path::{Path, PathBuf};

use crate::domain::time::{Micros, civil_from_days};

/// Every table of `DIR/snapshots/`, each a directory of date partitions.
pub const ALL_TABLES: [&str; 9] = [
    "comments",
    "claims",
    "reservations",
    "orders",
    "products",
    "stock",
    "carts",
    "gmv_minute",
    "claimants",
];

/// The partition column every table has beside its own: the UTC date of the session's first
/// event, so that a day of shows is one directory and a query by date reads only it.
pub const PARTITION: &str = "date";

/// `YYYY-MM-DD` of a time, UTC.
pub fn date_of(t: Micros) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400_000_000));
    format!("{:04}-{m:02}-{d:02}", y.clamp(0, 9999))
}

/// The directory of one table's partition.
pub fn partition_dir(snapshots: &Path, table: &str, first_t: Micros) -> PathBuf {
    snapshots
        .join(table)
        .join(format!("{PARTITION}={}", date_of(first_t)))
}

/// A file name for a session id: its safe characters, and a hash of the id when any had to be
/// replaced (two ids must not share a file), never a leading dot (hidden, and not listed).
pub fn file_stem(session_id: &str) -> String {
    let safe: String = session_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if safe == session_id && !safe.is_empty() {
        return safe;
    }
    let h = crate::records::session_hash(session_id);
    format!("{safe}-{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_names() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_800_000_000_000_000), "2027-01-15");
        assert_eq!(date_of(-1), "1969-12-31");
        assert_eq!(file_stem("show-1_a"), "show-1_a");
        let odd = file_stem("../etc/passwd");
        assert!(odd.starts_with("___etc_passwd-"), "{odd}");
        assert_ne!(file_stem("a/b"), file_stem("a_b"));
        assert_ne!(file_stem(""), "");
        assert_eq!(
            partition_dir(Path::new("/d"), "claims", 0),
            Path::new("/d/claims/date=1970-01-01")
        );
    }
}
