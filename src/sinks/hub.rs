//! The live state the writer keeps current and the HTTP server of `livesell serve` reads: session views, metric totals, ranked claimants, the claim feed, counters.
//!
//! The writer thread puts; request handlers read. Each session's state is copy-on-write: a
//! reader takes a shared handle under the lock (a pointer copy) and renders from it after the
//! lock is gone, so a slow or crowded reader never holds the writer up; the writer changes a
//! session in place unless a reader holds it, and then a copy of what it changes. Frames of the
//! ticker and overlay are rendered once per change however many streams show them. Every
//! change bumps a version on a watch channel, which is what wakes the Server-Sent Events
//! streams.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::domain::event::Text;
use crate::domain::live::{ProductView, SessionView, VIEW_LIMIT, per_minute, queue_order};
use crate::domain::time::{Micros, format_micros, minute_of};
use crate::records::{About, Claimant, Kind, Line, Metric, MetricKey};

use super::release::{Release, Released};

/// Claim decisions kept per session for the claim feed.
const FEED: usize = 100;
/// Minutes in the ticker's units-per-minute sparkline.
pub const SPARKLINE_MINUTES: usize = 30;
/// The overlay says "only N left" from this many units down.
pub const LOW_STOCK: i64 = 10;

#[derive(Default)]
struct SessionLive {
    view: Arc<SessionView>,
    /// Per platform: GMV cents, units, claims (from the maintained `gmv_minute` totals).
    platforms: BTreeMap<String, [i64; 3]>,
    /// Units per event-time minute.
    minutes: BTreeMap<Micros, i64>,
    /// The newest claim decisions, newest last: the sku each names, and its JSON as written.
    feed: VecDeque<Arc<(Option<Text>, Box<str>)>>,
    /// Per sku, ranked claimants by rank.
    ranked: BTreeMap<String, Arc<BTreeMap<u64, Claimant>>>,
    /// The producer's order of the run sheet (normalised codes); empty: definition order.
    queue: Vec<String>,
    /// Every buyer's cart as it now stands (its newest `livesell.carts` record), by cart id.
    carts: BTreeMap<String, Arc<LiveCart>>,
    /// The ticker's and the overlay's frames of this state, rendered by their first reader.
    frames: Frames,
}

/// A buyer's cart as the writer handed it: its JSON as written, and the figures the show's
/// totals add up.
struct LiveCart {
    json: Box<str>,
    unpaid_cents: i64,
    paid: bool,
}

/// Frames rendered from one state of a session; a change starts afresh.
#[derive(Default)]
struct Frames {
    ticker: OnceLock<Option<Arc<Frame>>>,
    overlay: OnceLock<Option<Arc<Frame>>>,
}

/// A frame of the ticker or the overlay, and its text as every stream sends it.
#[derive(Debug, PartialEq)]
pub struct Frame {
    pub json: Value,
    pub text: String,
}

impl Frame {
    fn new(json: Value) -> Option<Arc<Frame>> {
        let text = json.to_string();
        Some(Arc::new(Frame { json, text }))
    }
}

impl Clone for SessionLive {
    /// The writer's copy of a state a reader still holds: the large parts are shared handles,
    /// copied further only where the writer changes them.
    fn clone(&self) -> Self {
        SessionLive {
            view: self.view.clone(),
            platforms: self.platforms.clone(),
            minutes: self.minutes.clone(),
            feed: self.feed.clone(),
            ranked: self.ranked.clone(),
            queue: self.queue.clone(),
            carts: self.carts.clone(),
            frames: Frames::default(),
        }
    }
}

/// SPEC 3.5 as the surfaces say it: `live`, `ended` (after the director's `end`) or `closed`.
fn show_state(v: &SessionView) -> &'static str {
    match (v.ended_at, v.closed_at) {
        (_, Some(_)) => "closed",
        (Some(_), None) => "ended",
        _ => "live",
    }
}

/// Closed sessions kept for the surfaces (their final figures, "closed" on the overlay); older
/// ones leave the hub.
pub const KEEP_CLOSED: usize = 16;

#[derive(Default)]
struct State {
    sessions: BTreeMap<String, Arc<SessionLive>>,
    /// The sessions that closed, newest last (at most `KEEP_CLOSED` of them still shown).
    closed_order: VecDeque<String>,
    /// Hashes of the newest closed sessions' ids (`KEEP_CLOSED_SHOWS`): their late updates
    /// (the views taken back out of differential) must not bring them back.
    closed: super::closed::ClosedShows,
    /// The show the director last put a product on air in (`activate`, `next`, `skip`): what
    /// the overlay and the ticker show when no `?session=` names one.
    current: Option<String>,
}

impl State {
    /// The live state of a session still open (or closed and still shown, when `closed_too`),
    /// to change: the writer's own, copied first if a reader holds it; its frames start afresh.
    fn open_mut(&mut self, id: &str, closed_too: bool) -> Option<&mut SessionLive> {
        let live = if self.closed.contains(crate::records::session_hash(id)) {
            self.sessions.get_mut(id).filter(|_| closed_too)?
        } else {
            self.sessions.entry(id.to_string()).or_default()
        };
        let live = Arc::make_mut(live);
        live.frames = Frames::default();
        Some(live)
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Counters {
    pub events_in: AtomicU64,
    pub decisions_out: AtomicU64,
    pub dead_letters: AtomicU64,
    pub refused_auth: AtomicU64,
    pub director_actions: AtomicU64,
    pub moderation_actions: AtomicU64,
    pub webhook_accepted: AtomicU64,
    pub webhook_refused: AtomicU64,
    pub webhook_duplicates: AtomicU64,
    /// The writer's release bound: every decision below it is out (event time, µs).
    pub released: AtomicI64,
    /// Sessions closed so far (SPEC 3.5).
    pub closed_sessions: AtomicU64,
    /// What the writer keeps per closed show, bounded (`sinks::closed`): the closed shows it
    /// remembers, and the session names it holds (open shows and those).
    pub writer_closed_kept: AtomicU64,
    pub writer_names_held: AtomicU64,
}

pub struct LiveHub {
    state: Mutex<State>,
    version: watch::Sender<u64>,
    pub counters: Counters,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveHub")
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub {
            state: Mutex::default(),
            version: watch::Sender::new(0),
            counters: Counters {
                released: AtomicI64::new(i64::MIN),
                ..Default::default()
            },
        }
    }
}

impl LiveHub {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // A handler that panicked mid-update leaves plain data behind: keep serving it.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// Wakes on every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    // --- put by the writer ---

    pub fn view(&self, view: SessionView) {
        self.with(|s| {
            if let Some(live) = s.open_mut(&view.session_id.clone(), false) {
                live.view = Arc::new(view);
            }
        });
        self.bump();
    }

    /// SPEC 3.5: a session closed. Its last view stays on the surfaces among the newest
    /// `KEEP_CLOSED` closed ones; what differential takes back out afterwards is not shown.
    pub fn closed(&self, id: &str, at: Micros) {
        self.with(|s| {
            if let Some(live) = s.sessions.get_mut(id) {
                let live = Arc::make_mut(live);
                Arc::make_mut(&mut live.view).closed_at = Some(at);
                live.frames = Frames::default();
            }
            s.closed.close(crate::records::session_hash(id));
            s.closed_order.push_back(id.to_string());
            while s.closed_order.len() > KEEP_CLOSED {
                if let Some(old) = s.closed_order.pop_front() {
                    s.sessions.remove(&old);
                }
            }
        });
        self.counters
            .closed_sessions
            .fetch_add(1, Ordering::Relaxed);
        self.bump();
    }

    /// What the writer keeps per show now (the `/metrics` gauges that show it bounded).
    pub fn remembered(&self, closed_kept: usize, names_held: usize) {
        let c = &self.counters;
        c.writer_closed_kept
            .store(closed_kept as u64, Ordering::Relaxed);
        c.writer_names_held
            .store(names_held as u64, Ordering::Relaxed);
    }

    /// Closed sessions the hub remembers (bounded by `KEEP_CLOSED_SHOWS`).
    pub fn closed_kept(&self) -> u64 {
        self.with(|s| s.closed.len() as u64)
    }

    /// Sessions open, as the hub knows them.
    pub fn open_sessions(&self) -> u64 {
        self.with(|s| {
            s.sessions
                .values()
                .filter(|l| l.view.closed_at.is_none())
                .count() as u64
        })
    }

    pub fn metric(&self, key: &MetricKey, change: i64) {
        self.with(|s| {
            let Some(live) = s.open_mut(&key.session_id, false) else {
                return;
            };
            let p = live.platforms.entry(key.platform.clone()).or_default();
            p[key.metric as usize] += change;
            if key.metric == Metric::Units {
                *live.minutes.entry(key.minute).or_default() += change;
            }
        });
        self.bump();
    }

    pub fn ranked(&self, session_id: &str, rank: u64, claimant: &Claimant, diff: i64) {
        self.with(|s| {
            let Some(live) = s.open_mut(session_id, false) else {
                return;
            };
            let sku = Arc::make_mut(live.ranked.entry(claimant.sku.to_string()).or_default());
            if diff > 0 {
                sku.insert(rank, claimant.clone());
            } else if sku.get(&rank) == Some(claimant) {
                sku.remove(&rank);
            }
        });
    }

    /// Released decisions (in order) with their session ids: the claims go to the feed.
    pub fn decisions<'a>(&self, lines: impl Iterator<Item = (&'a str, &'a Line)>) {
        let mut n = 0;
        // Made before the lock is taken: readers wait for none of it.
        let claims: Vec<(&str, Arc<(Option<Text>, Box<str>)>)> = lines
            .inspect(|_| n += 1)
            .filter_map(|(session, l)| match &l.about {
                About::Claim { sku } => {
                    Some((session, Arc::new((sku.clone(), l.line.as_str().into()))))
                }
                _ => None,
            })
            .collect();
        self.with(|s| {
            for (session_id, claim) in claims {
                let Some(live) = s.open_mut(session_id, true) else {
                    continue;
                };
                if live.feed.len() == FEED {
                    live.feed.pop_front();
                }
                live.feed.push_back(claim);
            }
        });
        self.counters.decisions_out.fetch_add(n, Ordering::Relaxed);
        if n > 0 {
            self.bump();
        }
    }

    /// Released cart updates (in order) with their session ids: each replaces its cart.
    pub fn carts<'a>(&self, lines: impl Iterator<Item = (&'a str, &'a Line)>) {
        let updates: Vec<(&str, String, Arc<LiveCart>)> = lines
            .filter_map(|(session, l)| match &l.about {
                About::Cart {
                    cart_id,
                    unpaid_cents,
                    paid,
                } => {
                    let json = l.line.as_str().into();
                    let (unpaid_cents, paid) = (*unpaid_cents, *paid);
                    let cart = LiveCart {
                        json,
                        unpaid_cents,
                        paid,
                    };
                    Some((session, cart_id.clone(), Arc::new(cart)))
                }
                _ => None,
            })
            .collect();
        if updates.is_empty() {
            return;
        }
        self.with(|s| {
            for (session_id, cart_id, v) in updates {
                if let Some(live) = s.open_mut(session_id, true) {
                    live.carts.insert(cart_id, v);
                }
            }
        });
        self.bump();
    }

    /// Records the writer released (in key order per kind) up to `bound`: the claim feed, the
    /// carts and the counters; `sessions` names the session each record is keyed by.
    pub fn take_released(&self, released: &Released, sessions: &Release, bound: i64) {
        fn named<'a>(sessions: &'a Release, l: &'a Line) -> Option<(&'a str, &'a Line)> {
            sessions.session(l.key.1).map(|s| (s, l))
        }
        let decisions = released.of(Kind::Decision).iter();
        self.decisions(decisions.filter_map(|l| named(sessions, l)));
        let carts = released.of(Kind::Cart).iter();
        self.carts(carts.filter_map(|l| named(sessions, l)));
        self.counters
            .dead_letters
            .fetch_add(released.count(Kind::DeadLetter), Ordering::Relaxed);
        self.released(bound);
    }

    pub fn released(&self, bound: i64) {
        self.counters.released.fetch_max(bound, Ordering::Relaxed);
    }

    // --- read by the server ---

    pub fn session_ids(&self) -> Vec<String> {
        self.with(|s| s.sessions.keys().cloned().collect())
    }

    /// The session asked for; when none is named, the director's current show, else the
    /// first one by id.
    pub fn resolve(&self, session: Option<&str>) -> Option<String> {
        self.with(|s| match session {
            Some(id) => s.sessions.contains_key(id).then(|| id.to_string()),
            None => s
                .current
                .clone()
                .filter(|c| s.sessions.contains_key(c))
                .or_else(|| s.sessions.keys().next().cloned()),
        })
    }

    /// The director put a product on air in `id`: it is the current show from now on.
    pub fn mark_current(&self, id: &str) {
        self.with(|s| s.current = Some(id.to_string()));
    }

    /// A session's state as it stands: a shared handle, rendered from after the lock is gone.
    fn session(&self, id: &str) -> Option<Arc<SessionLive>> {
        self.with(|s| s.sessions.get(id).cloned())
    }

    pub fn session_view(&self, id: &str) -> Option<Arc<SessionView>> {
        self.with(|s| s.sessions.get(id).map(|l| l.view.clone()))
    }

    /// The latest event time applied in any session.
    pub fn latest_applied(&self) -> Option<Micros> {
        self.with(|s| s.sessions.values().map(|l| l.view.as_of).max())
    }

    /// The ticker frame of a session, rendered once per change.
    pub fn ticker(&self, id: &str) -> Option<Arc<Frame>> {
        let l = self.session(id)?;
        l.frames.ticker.get_or_init(|| ticker_frame(id, &l)).clone()
    }

    /// What a viewer sees on the stream: the active product, its price, how many are left.
    pub fn overlay(&self, id: &str) -> Option<Arc<Frame>> {
        let l = self.session(id)?;
        l.frames
            .overlay
            .get_or_init(|| overlay_frame(id, &l.view))
            .clone()
    }

    /// The run sheet in the producer's order.
    pub fn runsheet(&self, id: &str) -> Option<Value> {
        let l = self.session(id)?;
        let order = queue_order(&l.view, &l.queue);
        let queue: Vec<Value> = order
            .iter()
            .filter_map(|k| l.view.product(k))
            .map(|p| {
                let mut o = serde_json::to_value(p).unwrap_or_default();
                o["stock_left"] = json!(p.stock_left());
                o["active"] = json!(l.view.active.as_deref() == Some(p.key.as_str()));
                o
            })
            .collect();
        Some(json!({
            "session_id": id,
            "as_of": format_micros(l.view.as_of),
            "active": l.view.active_product().map(|p| p.code.clone()),
            "next": l.view.next_code(&order, 0).and_then(|k| l.view.product(k)).map(|p| p.code.clone()),
            "queue": queue,
        }))
    }

    /// The run-sheet order as it stands (normalised codes).
    pub fn queue(&self, id: &str) -> Vec<String> {
        self.session(id)
            .map(|l| queue_order(&l.view, &l.queue))
            .unwrap_or_default()
    }

    pub fn set_queue(&self, id: &str, order: Vec<String>) {
        self.with(|s| {
            if let Some(l) = s.sessions.get_mut(id) {
                Arc::make_mut(l).queue = order;
            }
        });
        self.bump();
    }

    /// The moderator queue, oldest first, each with its age in show time (`as_of` minus its
    /// `ts`), and the open count per reason; `reason` keeps only that reason's, filtered
    /// before the list is cut at `VIEW_LIMIT`.
    pub fn escalations(&self, id: &str, reason: Option<&str>) -> Option<Value> {
        let l = self.session(id)?;
        let v = &l.view;
        let list: Vec<Value> = v
            .escalations
            .iter()
            .filter(|e| reason.is_none_or(|r| e.reason == r))
            .take(VIEW_LIMIT)
            .map(|e| {
                let mut o = serde_json::to_value(e).unwrap_or_default();
                o["ts"] = json!(format_micros(e.ts));
                // Whole seconds: the page shows it as is and a late event never makes it negative.
                o["age_s"] = json!((v.as_of - e.ts).max(0) / 1_000_000);
                o
            })
            .collect();
        let matching = match reason {
            Some(r) => v.escalation_reasons.get(r).copied().unwrap_or(0),
            None => v.escalations_open,
        };
        Some(json!({
            "session_id": id,
            "as_of": format_micros(v.as_of),
            "open": v.escalations_open,
            "reasons": v.escalation_reasons,
            "reason": reason,
            "matching": matching,
            "escalations": list,
        }))
    }

    /// A show's carts, or one buyer's (`PLATFORM/USER_ID`), as JSON text; `None`: the buyer
    /// has none. The carts are written as the engine wrote them, not read and written again.
    pub fn carts_of(&self, id: &str, buyer: Option<&str>) -> Option<String> {
        let l = self.session(id);
        let carts = l.as_deref().map(|l| &l.carts);
        let sid = Value::from(id).to_string();
        match buyer {
            Some(b) => {
                let cart = carts?.get(&format!("cart/{b}"))?;
                Some(format!(r#"{{"cart":{},"session_id":{sid}}}"#, cart.json))
            }
            None => {
                let all: Vec<&LiveCart> = carts
                    .into_iter()
                    .flat_map(|c| c.values().map(|v| v.as_ref()))
                    .collect();
                let unpaid: i64 = all.iter().map(|c| c.unpaid_cents).sum();
                let paid = all.iter().filter(|c| c.paid).count();
                let list = join(all.iter().map(|c| &*c.json));
                Some(format!(
                    r#"{{"carts":[{list}],"paid":{paid},"session_id":{sid},"unpaid_cents":{unpaid}}}"#
                ))
            }
        }
    }

    /// A show's ranked claimants, holders and waitlist per sku (or one sku's), and its claim
    /// feed, as JSON text; `None`: no such sku.
    pub fn claims(&self, id: &str, sku: Option<&str>) -> Option<String> {
        let l = self.session(id)?;
        let skus: Vec<&String> = match sku {
            Some(k) => l
                .view
                .products
                .iter()
                .flat_map(|p| &p.variants)
                .map(|v| &v.sku)
                .filter(|s| s.as_str() == k)
                .collect(),
            None => l
                .view
                .products
                .iter()
                .flat_map(|p| &p.variants)
                .map(|v| &v.sku)
                .collect(),
        };
        if sku.is_some() && skus.is_empty() {
            return None;
        }
        let per_sku: Vec<Value> = skus
            .into_iter()
            .map(|k| {
                let ranked: Vec<Value> = l
                    .ranked
                    .get(k)
                    .into_iter()
                    .flat_map(|r| r.iter())
                    .map(|(rank, c)| {
                        json!({"rank": rank, "ts": format_micros(c.ts), "claim_id": c.claim_id,
                               "platform": c.platform, "user_id": c.user_id, "qty": c.qty})
                    })
                    .collect();
                let held = l.view.skus.get(k).cloned().unwrap_or_default();
                let holders: Vec<Value> = held
                    .holders
                    .iter()
                    .map(|h| {
                        json!({"reservation_id": h.reservation_id, "platform": h.platform,
                               "user_id": h.user_id, "qty": h.qty,
                               "created_at": format_micros(h.created_at),
                               "expires_at": format_micros(h.expires_at)})
                    })
                    .collect();
                json!({
                    "sku": k,
                    "ranked": ranked,
                    "holders": holders,
                    "holders_total": held.holders_total,
                    "waitlist": held.waitlist,
                    "waitlist_total": held.waitlist_total,
                })
            })
            .collect();
        let feed = l
            .feed
            .iter()
            .rev()
            .filter(|c| sku.is_none_or(|k| c.0.as_deref() == Some(k)))
            .map(|c| &*c.1);
        let (feed, sid, skus) = (join(feed), Value::from(id), Value::from(per_sku));
        Some(format!(
            r#"{{"feed":[{feed}],"session_id":{sid},"skus":{skus}}}"#
        ))
    }
}

/// JSON texts as the elements of an array.
fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out
}

/// The ticker frame of a session's state.
fn ticker_frame(id: &str, l: &SessionLive) -> Option<Arc<Frame>> {
    let v = &l.view;
    let now_minute = minute_of(v.as_of);
    let sparkline = per_minute(&l.minutes, now_minute, SPARKLINE_MINUTES);
    // The last complete minute, so the figure does not sag at the top of each minute.
    let units_per_min = sparkline.iter().rev().nth(1).copied().unwrap_or(0);
    let platforms: serde_json::Map<String, Value> = l
        .platforms
        .iter()
        .map(|(p, [gmv, units, claims])| {
            (
                p.clone(),
                json!({"gmv_cents": gmv, "units": units, "claims": claims}),
            )
        })
        .collect();
    Frame::new(json!({
        "session_id": id,
        "as_of": format_micros(v.as_of),
        "gmv_cents": v.gmv_cents,
        "units": v.units_sold,
        "units_per_min": units_per_min,
        "units_by_minute": sparkline,
        "held_units": v.held_units,
        "claims": v.claims,
        "comments": v.comments,
        "escalations_open": v.escalations_open,
        "platforms": platforms,
        "active": v.active_product().map(active_json),
    }))
}

/// The overlay frame of a session's view.
fn overlay_frame(id: &str, v: &SessionView) -> Option<Arc<Frame>> {
    Frame::new(json!({
        "session_id": id,
        "as_of": format_micros(v.as_of),
        "state": show_state(v),
        "ended_at": v.ended_at.map(format_micros),
        "closed_at": v.closed_at.map(format_micros),
        "active": v.active_product().map(|p| {
            let left = p.stock_left();
            let mut o = active_json(p);
            o["message"] = match left {
                0 => json!("Sold out"),
                n if n <= LOW_STOCK => json!(format!("Only {n} left")),
                _ => Value::Null,
            };
            o
        }),
    }))
}

fn active_json(p: &ProductView) -> Value {
    json!({
        "code": p.code,
        "title": p.title,
        "price_cents": p.price_cents,
        "currency": p.currency,
        "stock_left": p.stock_left(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn view(id: &str, as_of: Micros) -> SessionView {
        SessionView {
            session_id: id.into(),
            as_of,
            ..Default::default()
        }
    }

    #[test]
    fn a_reader_mid_render_does_not_hold_up_the_writer() {
        let hub = Arc::new(LiveHub::default());
        hub.view(view("s", 1));
        // What a request renders from, held as long as a slow client's render takes.
        let held = hub.session("s").unwrap();
        let writer = {
            let hub = hub.clone();
            std::thread::spawn(move || {
                for t in 2..=100 {
                    hub.view(view("s", t));
                    hub.metric(
                        &MetricKey {
                            session_id: "s".into(),
                            minute: 0,
                            sku: "x".into(),
                            platform: "tiktok".into(),
                            metric: Metric::Units,
                        },
                        1,
                    );
                }
            })
        };
        // The writer finishes while the reader still holds its state: a lock held across the
        // render would keep it waiting.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !writer.is_finished() {
            assert!(Instant::now() < deadline, "the writer waited for a reader");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(held.view.as_of, 1);
        assert!(held.minutes.is_empty());
        assert_eq!(hub.session_view("s").unwrap().as_of, 100);
        assert_eq!(hub.ticker("s").unwrap().json["units"], 0);
        assert_eq!(hub.session("s").unwrap().minutes[&0], 99);
    }

    #[test]
    fn frames_are_rendered_once_per_change_and_the_feed_once_per_claim() {
        let hub = LiveHub::default();
        hub.view(view("s", 1));
        let (a, b) = (hub.ticker("s").unwrap(), hub.ticker("s").unwrap());
        // Every stream of the same state shares one rendered frame.
        assert!(Arc::ptr_eq(&a, &b));
        let o = hub.overlay("s").unwrap();
        assert!(Arc::ptr_eq(&o, &hub.overlay("s").unwrap()));
        hub.view(view("s", 2_000_000));
        let c = hub.ticker("s").unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.json["as_of"], format_micros(2_000_000));
        assert_eq!(c.text, c.json.to_string());
        let line = |json: &str, about| Line {
            key: (0, 0, 0, 0),
            line: json.into(),
            sent: false,
            about,
        };
        let claim = line(
            r#"{"kind":"claim","sku":"A1","claim_id":"c1"}"#,
            About::Claim {
                sku: Some("A1".into()),
            },
        );
        let reject = line(r#"{"kind":"reject"}"#, About::Nothing);
        hub.decisions([("s", &claim), ("s", &reject)].into_iter());
        let claims: Value = serde_json::from_str(&hub.claims("s", None).unwrap()).unwrap();
        assert_eq!(
            claims["feed"],
            json!([{"kind":"claim","sku":"A1","claim_id":"c1"}])
        );
        assert_eq!(hub.counters.decisions_out.load(Ordering::Relaxed), 2);
    }
}
