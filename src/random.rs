//! Made-up secrets from the operating system's generator: tokens for `serve` and `demo`, and the password an unknown `serve-sql` user must prove.

/// A fresh random token (for `demo`, and for `serve` when none is configured).
pub fn random_token() -> std::io::Result<String> {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = String::with_capacity(32);
    let mut bytes = [0u8; 64];
    while s.len() < 32 {
        // The operating system's generator: a token must not be guessable from another.
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        // 252 = 7 × 36: bytes above it are dropped, so every character is equally likely.
        for b in bytes.iter().filter(|&&b| b < 252).take(32 - s.len()) {
            s.push(ALPHABET[(b % 36) as usize] as char);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_long_and_differ() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        // Every character of the alphabet turns up, none far more often than another.
        let mut counts = [0u32; 36];
        for _ in 0..500 {
            for c in random_token().unwrap().bytes() {
                let i = if c.is_ascii_digit() {
                    c - b'0'
                } else {
                    c - b'a' + 10
                };
                counts[i as usize] += 1;
            }
        }
        // A token owes nothing to the process's own generator: reseeding it does not repeat one.
        fastrand::seed(7);
        let first = random_token().unwrap();
        fastrand::seed(7);
        assert_ne!(first, random_token().unwrap());
        // 16,000 characters: about 444 each.
        assert!(
            counts.iter().all(|&n| (300..600).contains(&n)),
            "{counts:?}"
        );
    }
}
