//! The writer's snapshot files: each open session's row groups as they come in, the two differential views per session, and a session's files and figures written once at its close.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use rustc_hash::FxHashMap;

use crate::domain::decision::JsonObject;
use crate::io::parquet::{write_parquet, write_row_groups};
use crate::records::{Claimant, MetricKey, RowGroups, Rows};
use crate::tables::layout;
use crate::tables::table_schema;
use crate::tables::views::{GmvMinuteRow, claimants_batch, gmv_minute_batch, gmv_minute_rows};

/// One open session's snapshot rows, as encoded row groups per table.
pub struct Gathered {
    /// Its first event's effective time: the date partition of its files.
    pub first_t: i64,
    pub tables: BTreeMap<String, Vec<Bytes>>,
}

/// Every open session's rows, and the views differential maintains for them.
#[derive(Default)]
pub struct Snapshots {
    /// Each open session's parts of the snapshot tables (a closed one's are written and gone).
    pub gathered: BTreeMap<String, Gathered>,
    pub totals: FxHashMap<(MetricKey, i64), i64>,
    pub ranked: FxHashMap<(String, u64, Claimant), i64>,
    /// Tables changed since they were last written.
    pub dirty: bool,
}

impl Snapshots {
    /// One session's rows of a table: appended (`delta`), or the whole table.
    pub fn rows(&mut self, r: Rows) {
        let g = self
            .gathered
            .entry(r.session_id)
            .or_insert_with(|| Gathered {
                first_t: r.date,
                tables: BTreeMap::new(),
            });
        let part = g.tables.entry(r.table).or_default();
        if !r.delta {
            part.clear();
        }
        part.extend(r.parts.0);
        self.dirty = true;
    }

    /// A change to a maintained metric total. A closed show's ticker said its last word at the
    /// close: the retraction of its views must not tick it down to zero.
    pub fn total(&mut self, key: MetricKey, total: i64, diff: i64) {
        add(&mut self.totals, (key, total), diff);
    }

    /// A change to the ranked claimants of a sku.
    pub fn ranked(&mut self, session_id: String, rank: u64, claimant: Claimant, diff: i64) {
        add(&mut self.ranked, (session_id, rank, claimant), diff);
    }

    /// Open sessions' rows as a checkpoint holds them: `(session, first_t, table, parts)`.
    pub fn state(&self) -> Vec<(String, i64, String, RowGroups)> {
        self.gathered
            .iter()
            .flat_map(|(id, g)| {
                g.tables.iter().map(|(table, parts)| {
                    (
                        id.clone(),
                        g.first_t,
                        table.clone(),
                        RowGroups(parts.clone()),
                    )
                })
            })
            .collect()
    }

    /// Open sessions' rows read back from a checkpoint.
    pub fn restore(&mut self, state: Vec<(String, i64, String, RowGroups)>) {
        for (session, first_t, table, parts) in state {
            let g = self.gathered.entry(session).or_insert_with(|| Gathered {
                first_t,
                tables: BTreeMap::new(),
            });
            g.tables.insert(table, parts.0);
        }
    }

    /// Every open session's snapshot files as they stand, each replaced atomically (closed
    /// sessions' files were written at their close and are never rewritten). Sessions are
    /// independent, so they are written on a few threads.
    pub fn write_open(&mut self, snapshots: &Path) -> anyhow::Result<()> {
        self.dirty = false;
        let views = open_views(&self.totals, &self.ranked);
        let empty = SessionViews::default();
        let sessions: Vec<(&String, &Gathered)> = self.gathered.iter().collect();
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(4);
        let chunk = sessions.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let jobs: Vec<_> = sessions
                .chunks(chunk)
                .map(|part| {
                    let (views, empty) = (&views, &empty);
                    scope.spawn(move || {
                        part.iter().try_for_each(|(id, g)| {
                            let v = views.get(id.as_str()).unwrap_or(empty);
                            write_session(snapshots, id, g, Some(v))
                        })
                    })
                })
                .collect();
            jobs.into_iter().try_for_each(|j| {
                j.join()
                    .map_err(|_| anyhow::anyhow!("a snapshot writer panicked"))?
            })
        })
    }

    /// SPEC 3.5: a session closed. Its tables are written, once, to their partitions, and its
    /// figures to `DIR/sessions/<session>.json`; then its rows are forgotten. `out_dir`:
    /// `None` when no files are written.
    pub fn closed(
        &mut self,
        out_dir: Option<&Path>,
        session_id: &str,
        closed_at: i64,
        summary: Option<&str>,
    ) -> anyhow::Result<()> {
        let gathered = self.gathered.remove(session_id);
        let Some(out_dir) = out_dir else {
            return Ok(());
        };
        if let Some(g) = &gathered {
            write_session(&out_dir.join("snapshots"), session_id, g, None)?;
        }
        let sessions = out_dir.join("sessions");
        std::fs::create_dir_all(&sessions)?;
        let mut o = JsonObject::new();
        o.str("session_id", session_id);
        o.ts("closed_at", closed_at);
        o.raw("summary", summary.unwrap_or("{}"));
        let path = sessions.join(format!("{}.json", layout::file_stem(session_id)));
        let tmp = sessions.join(format!(".{}.json.tmp", layout::file_stem(session_id)));
        std::fs::write(&tmp, o.finish() + "\n")?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }
}

/// A differential update to a collection kept as counts: a row whose count comes to zero leaves.
fn add<K: std::hash::Hash + Eq>(counts: &mut FxHashMap<K, i64>, key: K, diff: i64) {
    use std::collections::hash_map::Entry;
    match counts.entry(key) {
        Entry::Occupied(mut e) => {
            *e.get_mut() += diff;
            if *e.get() == 0 {
                e.remove();
            }
        }
        Entry::Vacant(e) if diff != 0 => {
            e.insert(diff);
        }
        Entry::Vacant(_) => {}
    }
}

/// An open session's rows of the two views differential maintains.
#[derive(Default)]
struct SessionViews {
    gmv: Vec<GmvMinuteRow>,
    ranked: Vec<(String, u64, Claimant)>,
}

/// The maintained views per open session: `gmv_minute` by minute, sku and platform; the
/// claimants by sku and rank.
fn open_views(
    totals: &FxHashMap<(MetricKey, i64), i64>,
    ranked: &FxHashMap<(String, u64, Claimant), i64>,
) -> BTreeMap<String, SessionViews> {
    let mut views: BTreeMap<String, SessionViews> = BTreeMap::new();
    for row in gmv_minute_rows(totals.keys().map(|(k, t)| (k, *t))) {
        views
            .entry(row.session_id.clone())
            .or_default()
            .gmv
            .push(row);
    }
    let mut rows: Vec<&(String, u64, Claimant)> = ranked.keys().collect();
    rows.sort_unstable_by(|a, b| (&a.0, &a.2.sku, a.1).cmp(&(&b.0, &b.2.sku, b.1)));
    for r in rows {
        views.entry(r.0.clone()).or_default().ranked.push(r.clone());
    }
    views
}

/// One session's files, each table to its partition. `views`: an open session's rows of the
/// differential views (a closed session brought its own among its tables).
fn write_session(
    snapshots: &Path,
    session_id: &str,
    g: &Gathered,
    views: Option<&SessionViews>,
) -> anyhow::Result<()> {
    let stem = layout::file_stem(session_id);
    for (name, parts) in &g.tables {
        let dir = layout::partition_dir(snapshots, name, g.first_t);
        let schema = table_schema(name);
        write_row_groups(&dir, &stem, schema, parts.iter())
            .with_context(|| format!("the {name} table of session {session_id}"))?;
    }
    if let Some(v) = views {
        for (name, batch) in [
            ("gmv_minute", gmv_minute_batch(&v.gmv)?),
            ("claimants", claimants_batch(&v.ranked)?),
        ] {
            if batch.num_rows() > 0 {
                let dir = layout::partition_dir(snapshots, name, g.first_t);
                write_parquet(&dir, &stem, &batch)?;
            }
        }
    }
    Ok(())
}
