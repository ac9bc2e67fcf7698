//! Each sku's claimants ranked by exact platform timestamp, maintained by a differential reduce.

use timely::dataflow::Stream;
use timely::dataflow::operators::vec::Map;

use crate::domain::event::Text;
use crate::ops::select_updates::{SelectUpdates, ViewTimes};
use crate::records::{Claimant, MAX_RANKED, Out, View};

pub trait RankClaimants<'scope> {
    /// Claimants of each `(session, sku)` in `(ts, claim_id)` order, numbered from 1, as
    /// `RankedClaimant` updates.
    fn rank_claimants(self, times: ViewTimes) -> Stream<'scope, u64, Vec<Out>>;
}

impl<'scope> RankClaimants<'scope> for Stream<'scope, u64, Vec<Out>> {
    fn rank_claimants(self, times: ViewTimes) -> Stream<'scope, u64, Vec<Out>> {
        self.select_updates("Claimants", times, |o| match o {
            Out::View(View::Claimant {
                session_id,
                claimant,
                diff,
            }) => Some((
                (
                    (session_id.clone(), claimant.sku.clone()),
                    (**claimant).clone(),
                ),
                *diff as isize,
            )),
            _ => None,
        })
        .reduce(|_key, claimants, ranked| {
            // Values arrive sorted by `Claimant`'s order, which starts with (ts, claim_id).
            for (rank, (c, _)) in claimants.iter().take(MAX_RANKED).enumerate() {
                ranked.push(((rank as u64 + 1, (*c).clone()), 1isize));
            }
        })
        .inner
        .map(
            |(((session_id, _sku), (rank, claimant)), _time, diff): (
                ((String, Text), (u64, Claimant)),
                u64,
                isize,
            )| {
                Out::View(View::RankedClaimant {
                    session_id,
                    rank,
                    claimant: Box::new(claimant),
                    diff: diff as i64,
                })
            },
        )
    }
}
