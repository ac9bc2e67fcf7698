//! Sentences for the revised claim grammar (SPEC 3.1) that the generator's model must read right.

/// Chatter SPEC 3.1.7 escalates though nobody claims: `gold` is one edit from `sold`, and a code
/// is present (`fuzzy_keyword`). A moderator who answers rejects.
pub(super) const VAGUE_CHATTER: [&str; 1] = ["{C} gold looks nice"];
