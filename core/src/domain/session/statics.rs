//! Checkpoint serde for the session's `&'static str` fields: written as strings, read back as statics.
//!
//! Each is read back as the one static string of its value; an unknown one is a corrupt checkpoint.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Micros, Reason, Text};

/// A `Reading::label` (a field of this type is not borrowed from the bytes, as a `&str`
/// would be).
#[derive(Debug, Default, Clone, Copy)]
pub struct Label(pub &'static str);

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
        let v = String::deserialize(d)?;
        // An empty label: no comment read yet.
        std::iter::once("")
            .chain(crate::domain::grammar::READING_LABELS)
            .find(|l| *l == v)
            .map(Label)
            .ok_or_else(|| D::Error::custom(format!("unknown reading label {v:?}")))
    }
}

type Open = BTreeMap<&'static str, BTreeSet<(Micros, Text)>>;

pub mod reason_keys {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Open, s: S) -> Result<S::Ok, S::Error> {
        v.iter().collect::<Vec<_>>().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Open, D::Error> {
        let v: Vec<(String, BTreeSet<(Micros, Text)>)> = Vec::deserialize(d)?;
        v.into_iter()
            .map(|(k, set)| {
                Reason::ALL
                    .iter()
                    .map(|r| r.as_str())
                    .find(|r| *r == k)
                    .map(|r| (r, set))
                    .ok_or_else(|| D::Error::custom(format!("unknown reason {k:?}")))
            })
            .collect()
    }
}
