//! The pusher's durable outbox (redb): what was sent where, so that a crash or kill -9 loses nothing and sends nothing twice.
//!
//! A record is marked `sending` (committed) before its request goes out and `done` with the
//! remote id after the answer; one found `sending` at a start was interrupted in between, and
//! the target is asked whether it happened (a draft order is found by its tag).

use std::path::Path;

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

/// Draft record id → its state.
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
/// Reservation id → the remote draft order's id.
const REMOTE: TableDefinition<&str, &str> = TableDefinition::new("remote");
/// Sku → the shop's variant id.
const VARIANTS: TableDefinition<&str, &str> = TableDefinition::new("variants");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum State {
    /// Its request may have gone out: ask the target before sending again.
    Sending,
    Done {
        remote: Option<String>,
    },
    /// The target refused it for good; the reason is in `push_failed.jsonl` too.
    Failed {
        reason: String,
    },
}

pub struct Outbox {
    db: Database,
}

type Result<T> = std::result::Result<T, redb::Error>;

impl Outbox {
    pub fn open(path: &Path) -> anyhow::Result<Outbox> {
        let db = Database::create(path)
            .map_err(|e| anyhow::anyhow!("cannot open the outbox {}: {e}", path.display()))?;
        let w = db.begin_write().map_err(redb::Error::from)?;
        w.open_table(RECORDS).map_err(redb::Error::from)?;
        w.open_table(REMOTE).map_err(redb::Error::from)?;
        w.open_table(VARIANTS).map_err(redb::Error::from)?;
        w.commit().map_err(redb::Error::from)?;
        Ok(Outbox { db })
    }

    pub fn state(&self, id: &str) -> Result<Option<State>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(RECORDS)?;
        Ok(t.get(id)?
            .and_then(|v| serde_json::from_slice(v.value()).ok()))
    }

    /// Records `state` for `id` (and the remote draft of `reservation`), durably.
    pub fn set(&self, id: &str, state: &State, reservation: Option<(&str, &str)>) -> Result<()> {
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(RECORDS)?;
            let bytes = serde_json::to_vec(state).expect("a state serialises");
            t.insert(id, bytes.as_slice())?;
            if let Some((rid, remote)) = reservation {
                w.open_table(REMOTE)?.insert(rid, remote)?;
            }
        }
        w.commit()?;
        Ok(())
    }

    /// The remote draft order of a reservation, once created.
    pub fn remote(&self, reservation: &str) -> Result<Option<String>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(REMOTE)?;
        Ok(t.get(reservation)?.map(|v| v.value().to_string()))
    }

    pub fn variant(&self, sku: &str) -> Result<Option<String>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(VARIANTS)?;
        Ok(t.get(sku)?.map(|v| v.value().to_string()))
    }

    pub fn set_variant(&self, sku: &str, id: &str) -> Result<()> {
        let w = self.db.begin_write()?;
        w.open_table(VARIANTS)?.insert(sku, id)?;
        w.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.redb");
        {
            let o = Outbox::open(&path).unwrap();
            o.set("r1/draft", &State::Sending, None).unwrap();
            let done = State::Done {
                remote: Some("gid://shopify/DraftOrder/1".into()),
            };
            o.set(
                "r2/draft",
                &done,
                Some(("r2", "gid://shopify/DraftOrder/1")),
            )
            .unwrap();
            o.set_variant("A-RED", "gid://shopify/ProductVariant/9")
                .unwrap();
        }
        let o = Outbox::open(&path).unwrap();
        assert_eq!(o.state("r1/draft").unwrap(), Some(State::Sending));
        assert!(matches!(
            o.state("r2/draft").unwrap(),
            Some(State::Done { .. })
        ));
        assert_eq!(o.state("r3/draft").unwrap(), None);
        assert_eq!(
            o.remote("r2").unwrap().as_deref(),
            Some("gid://shopify/DraftOrder/1")
        );
        assert_eq!(
            o.variant("A-RED").unwrap().as_deref(),
            Some("gid://shopify/ProductVariant/9")
        );
    }
}
