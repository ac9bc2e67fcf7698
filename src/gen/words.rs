//! Vocabularies: product titles, colours, claim keywords, chatter and names.

/// Run-sheet code letters: no I/O (read as digits), no Q, no X (`x2` is a quantity).
pub(super) const CODE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWYZ";
pub(super) const COLORS: [&str; 10] = [
    "red", "blue", "black", "white", "pink", "green", "beige", "navy", "cream", "olive",
];
pub(super) const TITLES: [&str; 24] = [
    "Ribbed knit cardigan",
    "Satin slip dress",
    "Oversized denim jacket",
    "Cloud-soft hoodie",
    "Pearl drop earrings",
    "Chunky platform sneakers",
    "Leather crossbody bag",
    "Silk scrunchie set (3)",
    "Cashmere beanie",
    "High-rise mom jeans",
    "Linen button-down",
    "Puffer vest",
    "\"Sunday\" lounge set",
    "Gold hoop earrings",
    "Vintage band tee",
    "Quilted mini bag",
    "Wool blend coat",
    "Cat-eye sunglasses",
    "Pleated midi skirt",
    "Cozy fleece joggers",
    "Crochet tote",
    "Ballet flats",
    "Waffle robe",
    "Mini claw clips 6-pack",
];
/// (claim keyword, cancel keyword) a show may add through its `config`.
pub(super) const EXTRA_KEYWORDS: [(&str, &str); 3] = [
    ("quiero", "cancelar"),
    ("nehme", "storno"),
    ("compro", "annulla"),
];
/// SPEC 3.1.2's default claim keywords (`me` only as the first or last word that is no filler).
pub(super) const CLAIM_KEYWORDS: [&str; 9] = [
    "sold", "mine", "me", "claim", "want", "take", "buy", "dibs", "cf",
];
/// SPEC 3.1.3a's filler words: they are no extra words of a claim.
pub(super) const FILLERS: [&str; 26] = [
    "a", "an", "the", "i", "i'll", "i'm", "im", "my", "it", "this", "that", "one", "pls", "plz",
    "please", "thanks", "thx", "ty", "for", "too", "also", "and", "yes", "ok", "okay", "omg",
];
pub(super) const KEYWORDS: [(&str, u32); 15] = [
    ("sold", 30),
    ("SOLD", 14),
    ("Sold", 6),
    ("mine", 12),
    ("MINE", 4),
    ("Mine", 3),
    ("cf", 5),
    ("CF", 2),
    ("claim", 5),
    ("want", 5),
    ("take", 3),
    ("buy", 3),
    ("dibs", 3),
    ("sold!!", 3),
    ("SOLD!!!", 2),
];
/// One edit away from a claim keyword, four letters or more, and no keyword with letters repeated
/// (SPEC 3.1.2 reads `solld` as `sold` and `dibbs` as `dibs`, so those are no typos).
pub(super) const KEYWORD_TYPOS: [&str; 10] = [
    "sodl", "slod", "sokd", "sould", "dold", "mnie", "mien", "cliam", "wnat", "dibz",
];
pub(super) const PREFIXES: [&str; 7] = ["omg ", "yes ", "ok ", "😍 ", "@host ", "pls ", "yesss "];
pub(super) const SUFFIXES: [&str; 12] = [
    " please",
    " pls",
    " 🙏",
    "!!",
    "!!!",
    " 🔥🔥",
    " ❤️",
    " thank you",
    " ty",
    " for my daughter",
    " 💕",
    " 😍",
];
pub(super) const CHATTER: [&str; 57] = [
    "love this!!",
    "hi from {P}",
    "hello from {P} 👋",
    "how much?",
    "😍😍😍",
    "so pretty",
    "is this true to size?",
    "what's the fabric?",
    "can you show the back?",
    "gorgeous!!",
    "omg",
    "lol",
    "first time here!",
    "you look amazing",
    "need this in my life",
    "❤️❤️❤️",
    "shipping to Canada?",
    "hi everyone",
    "the color is so nice",
    "LOVE IT",
    "💕💕",
    "where is the link",
    "what size are you wearing?",
    "can you zoom in",
    "so cute 🥰",
    "hahaha",
    "Hola desde México 🇲🇽",
    "bonjour de Paris",
    "こんにちは！",
    "late again lol",
    "did I miss the bags?",
    "price?",
    "{C} looks so good",
    "{C} is my favorite",
    "my sister said \"get it\"",
    "¯\\_(ツ)_/¯",
    "love it\nso much",
    "ok ok ok",
    "🔥🔥🔥",
    "waiting for the shoes",
    "hi hi hi",
    "good evening from {P}!",
    "is there free shipping?",
    "wow",
    "beautiful",
    "that color though",
    "can you try it on?",
    "thank you!!",
    "brb",
    "love your energy",
    "ＨＥＬＬＯ ＥＶＥＲＹＯＮＥ",
    "yay",
    "😂😂",
    "how long does shipping take",
    "ready!!",
    "I got my package from last week, love it",
    "hi from {P}, love the show",
];
pub(super) const PLACES: [&str; 12] = [
    "Ohio",
    "Texas",
    "Manila",
    "Toronto",
    "London",
    "São Paulo",
    "München",
    "Lagos",
    "Sydney",
    "Kraków",
    "Dublin",
    "Nairobi",
];
pub(super) const QUESTIONS: [&str; 11] = [
    "is {C} still available?",
    "{C} sold out?",
    "how much is {C}??",
    "does {C} come in other colors?",
    "is it sold?",
    "sold?",
    "any {S} left?",
    "{C} in {S}?",
    "is {C} true to size?",
    "what's the price on {C}?",
    "can I still get {C}?",
];
pub(super) const NEGATIONS: [&str; 8] = [
    "don't want {C}",
    "dont want it anymore",
    "no {C} for me",
    "not {C} sorry",
    "never mind {C}",
    "I don't need {C}",
    "no thanks",
    "not sold on {C} tbh",
];
pub(super) const MULTI: [&str; 5] = [
    "sold {C1} and {C2}",
    "{K} {C1} {C2}",
    "{C1} + {C2} sold",
    "want {C1} & {C2}",
    "mine {C1}, {C2} pls",
];
pub(super) const CANCEL_NAMED: [&str; 6] = [
    "cancel {C}",
    "CANCEL {C}",
    "unclaim {C}",
    "pass on {C}",
    "cancel {C} pls",
    "cancel {C} sorry 😢",
];
pub(super) const CANCEL_BARE: [&str; 7] = [
    "cancel",
    "pass",
    "cancel mine",
    "pass 🙏",
    "Cancel please",
    "CANCEL",
    "unclaim",
];
pub(super) const UNKNOWN: [&str; 4] = ["sold {F}", "{F} mine", "SOLD {F} x2", "claim #{F}"];
pub(super) const FIRST_NAMES: [&str; 30] = [
    "Emma", "Olivia", "Ava", "Sophia", "Mia", "Zoë", "Chloé", "José", "Mónica", "Ayşe", "李娜",
    "Priya", "Fatima", "Grace", "Hannah", "Jasmine", "Kayla", "Lena", "María", "Nicole", "Tiffany",
    "Jess", "Danielle", "Ashley", "Brittany", "Maya", "Aaliyah", "Camila", "Sofia", "Yuki",
];
pub(super) const LAST_NAMES: [&str; 15] = [
    "Smith", "Nguyễn", "O'Brien", "Müller", "Garcia", "Johnson", "Kim", "Patel", "Rossi", "Silva",
    "\"Bee\"", "Lee", "Brown", "Martinez", "Dubois",
];
pub(super) const NAME_EMOJI: [&str; 6] = ["✨", "💖", "🌸", "🛍️", "👑", "🦋"];
