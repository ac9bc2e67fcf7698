//! Pure domain logic: claim grammar, allocation, reservations, orders, GMV. No runtime imports.
//!
//! Imports point one way, so no two modules need each other: `session` → `decision` → `grammar`
//! → `runsheet` → `event` → `time`, and the reader `event::parse` → `packs` sits above the types.

pub mod cart;
pub mod catalog;
pub mod decision;
pub mod draft;
pub mod event;
pub mod grammar;
pub mod live;
pub mod notify;
pub mod order;
pub mod packs;
pub mod runsheet;
pub mod session;
pub mod text;
pub mod time;
