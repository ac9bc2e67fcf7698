//! Pure domain logic: claim grammar, allocation, reservations, orders, GMV. No runtime imports.

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
