//! Sentences for the revised claim grammar (SPEC 3.1): filler words, `me`, codes, near-claims.
//!
//! Each list says how SPEC 3.1 reads its entries; `{K}` is a claim keyword, `{O}` the options of
//! the variant meant, `{Q}` a quantity, `{S}` a size of it, `{C}` a product code. None of them
//! uses a colour or a size word outside its placeholders, which would be an option value.

/// Claims in filler words (SPEC 3.1.3a): with the options, no extra word, so a claim of the
/// active product. `take my money` has one extra word after a keyword first, still a claim.
pub(super) const FILLER_CLAIMS: [&str; 22] = [
    "I’ll take it",
    "I’ll take it {O}",
    "i'll take one {O}",
    "I'll take the {O} one",
    "I’ll take it pls {O} {Q}",
    "I want it {O}",
    "i want this one {O}",
    "I’ll buy it",
    "I'll buy one {O} {Q}",
    "sold pls",
    "sold {O} pls",
    "yes mine please",
    "yes mine {O} please",
    "mine pls {O}",
    "ok sold {O} thanks",
    "omg mine {O} too",
    "dibs pls {O}",
    "claim it {O} thx",
    "cf {O} ty",
    "yes yes sold {O} {Q}",
    "take my money {O}",
    "and I want one too {O}",
];
/// `me` as the first or the last word that is no filler (SPEC 3.1.2): a claim. In `me me me`
/// the middle `me` is an ordinary word, one extra word after a keyword first.
pub(super) const ME_CLAIMS: [&str; 16] = [
    "me",
    "me!!",
    "ME 🙋",
    "me pls",
    "me please {O}",
    "me {O}",
    "me pls size {S}",
    "{O} for me",
    "{O} for me please",
    "{O} {Q} for me",
    "me {O} {Q}",
    "me too",
    "me too {O}",
    "me me me",
    "ME!!! {O}",
    "for me {O} pls",
];
/// Code claims (SPEC 3.1.2a): a code with options, quantities and filler words only.
pub(super) const CODE_CLAIMS: [&str; 10] = [
    "{C} {O}",
    "{C} {O} {Q}",
    "{O} {C}",
    "{C} {Q}",
    "{C} {O} pls",
    "{C} {O} please",
    "{C} {O} ty",
    "{C} {Q} pls",
    "yes {C} {O}",
    "{C} {O} 🙏",
];
/// Claim words in ordinary sentences, the keyword not first and three or more extra words
/// (SPEC 3.1.3a): `ignored`. `me` in the middle is an ordinary word; questions open some.
pub(super) const WORDY_CHATTER: [&str; 22] = [
    "I want to see the back of it",
    "can you take it off the hanger",
    "my sister bought this last week and loves it",
    "I would buy everything if I could",
    "you should take a break soon lol",
    "I want to see it on a model",
    "she said I could take my time",
    "we want to see the shoes next",
    "I’m dying to buy one of those bags",
    "I just want to say hi to everyone",
    "my mom wants to buy one for her birthday",
    "I sold mine on marketplace last year lol",
    "show me the back please",
    "send me the link",
    "I had to take a second look at that price",
    "everyone wants to buy the same thing lol",
    "I wish I could buy it all",
    "honestly I want to live in that cardigan",
    "you make me want to buy everything",
    "show me {C} again",
    "where can I buy this",
    "I’ll buy it next time when I get paid",
];
/// Chatter SPEC 3.1 escalates though nobody claims: `unclear_claim` (a keyword first with three
/// extra words, or another first word with one or two), or `fuzzy_keyword` (`gold` is one
/// edit from `sold`, and a code is present). A moderator who answers rejects.
pub(super) const VAGUE_CHATTER: [&str; 7] = [
    "omg I want everything",
    "mine came yesterday, love it",
    "take a closer look at the stitching please",
    "I want it all",
    "I want them all",
    "I want everything 😍",
    "{C} gold looks nice",
];
/// Questions without a question mark: the first word says it (SPEC 3.1.1).
pub(super) const OPEN_QUESTIONS: [&str; 22] = [
    "how much is {C}",
    "how much",
    "can you show the back",
    "where can I pay",
    "do you ship to Canada",
    "is {C} still available",
    "what’s the price on {C}",
    "does {C} come in other colors",
    "could you show {C} again",
    "which one is {C}",
    "when is the next drop",
    "are there more in {S}",
    "how’s the fit on {C}",
    "where’s the link",
    "who won the last one",
    "why is it so cheap lol",
    "is it sold",
    "can I still buy {C}",
    "do you have {C} in {S}",
    "what size is she wearing",
    "how do I claim",
    "can u take the belt off",
];
/// The negations SPEC 3.1.1 added, with and without apostrophes, ASCII and typographic.
pub(super) const MORE_NEGATIONS: [&str; 16] = [
    "can't wait for {C}",
    "can’t wait!!",
    "I can't afford it lol",
    "won't take {C} after all",
    "I won’t miss this one",
    "didn't get my {C} yet",
    "didnt get the link",
    "it doesn't fit me",
    "doesnt matter lol",
    "cant decide",
    "wont lie that's cute",
    "I didn’t want {C} anyway",
    "I don’t want to miss it",
    "doesn’t look like the picture",
    "cant wait to take it home",
    "sold out already? can’t believe it",
];
/// Names that viewers mention (`@name`, removed before tokenising: SPEC 3.1). ASCII only, and
/// `k3lly.styles` would read as the code `K3` if the mention were not removed.
pub(super) const MENTIONS: [&str; 10] = [
    "host",
    "maria_lopez",
    "jess.k",
    "the.real.emma",
    "kayla_92",
    "k3lly.styles",
    "ashley_b",
    "mod_team",
    "priya.p",
    "sofia__",
];
