//! Event time: platform timestamps (RFC 3339 or epoch milliseconds) as epoch microseconds, and back.

/// Epoch microseconds, the one clock every decision is stamped with.
pub type Micros = i64;

/// Latest instant accepted (9999-12-31T23:59:59.999999Z); earlier than the epoch is refused too.
pub const MAX_MICROS: Micros = 253_402_300_799_999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    #[error("timestamp {0:?} is not RFC 3339")]
    Format(String),
    #[error("timestamp {0} is out of range (1970..=9999)")]
    Range(i128),
}

/// Epoch milliseconds as sent by TikTok and friends.
pub fn from_epoch_millis(ms: i128) -> Result<Micros, TsError> {
    let us = ms.checked_mul(1000).ok_or(TsError::Range(ms))?;
    if us < 0 || us > MAX_MICROS as i128 {
        return Err(TsError::Range(ms));
    }
    Ok(us as Micros)
}

/// RFC 3339 with any sub-second precision (truncated to microseconds), `Z`, `+hh:mm` or `+hhmm`.
pub fn parse_rfc3339(s: &str) -> Result<Micros, TsError> {
    let bad = || TsError::Format(s.to_string());
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Result<i64, TsError> {
        let digits = b.get(from..from + len).ok_or_else(bad)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            if d.is_ascii_digit() {
                Ok(acc * 10 + (d - b'0') as i64)
            } else {
                Err(bad())
            }
        })
    };
    let sep = |at: usize, want: &[u8]| -> Result<(), TsError> {
        if b.get(at).is_some_and(|c| want.contains(c)) {
            Ok(())
        } else {
            Err(bad())
        }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    sep(4, b"-")?;
    sep(7, b"-")?;
    sep(10, b"Tt ")?;
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    sep(13, b":")?;
    sep(16, b":")?;
    let mut at = 19;
    let mut micros = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 6 {
                micros = micros * 10 + (b[at] - b'0') as i64;
            }
            at += 1;
        }
        if at == start {
            return Err(bad());
        }
        for _ in (at - start).min(6)..6 {
            micros *= 10;
        }
    }
    let offset_s = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let (h, m) = match b.len() - at {
                6 if b[at + 3] == b':' => (num(at + 1, 2)?, num(at + 4, 2)?),
                5 => (num(at + 1, 2)?, num(at + 3, 2)?),
                _ => return Err(bad()),
            };
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let o = h * 3600 + m * 60;
            if sign == b'-' { -o } else { o }
        }
        _ => return Err(bad()),
    };
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let secs = days_from_civil(year, month as u32, day as u32) * 86_400
        + hour * 3600
        + minute * 60
        + second
        - offset_s;
    let us = secs as i128 * 1_000_000 + micros as i128;
    if us < 0 || us > MAX_MICROS as i128 {
        return Err(TsError::Range(us));
    }
    Ok(us as Micros)
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-21T20:15:03.000000Z`: UTC, always six fractional digits, so text order is time order.
pub fn format_micros(us: Micros) -> String {
    let mut s = String::with_capacity(27);
    write_micros(&mut s, us);
    s
}

/// Appends the RFC 3339 form of `us` to `out` without allocating (decisions write two each).
pub fn write_micros(out: &mut String, us: Micros) {
    let secs = us.div_euclid(1_000_000);
    let sub = us.rem_euclid(1_000_000) as u32;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    let mut buf = [0u8; 27];
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, y.clamp(0, 9999) as u32, 4);
    put(5, m, 2);
    put(8, d, 2);
    put(11, sod / 3600, 2);
    put(14, sod / 60 % 60, 2);
    put(17, sod % 60, 2);
    put(20, sub, 6);
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buf[i] = c;
    }
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The minute an instant falls in, as epoch microseconds (for per-minute metrics).
pub fn minute_of(us: Micros) -> Micros {
    us - us.rem_euclid(60_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Micros = 1_763_756_103_000_000; // 2025-11-21T20:15:03Z

    #[test]
    fn accepts_every_documented_shape() {
        let cases = [
            ("2025-11-21T20:15:03Z", T0),
            ("2025-11-21T20:15:03+00:00", T0),
            ("2025-11-21T20:15:03+0000", T0),
            ("2025-11-21T20:15:03.123+00:00", T0 + 123_000),
            ("2025-11-21T20:15:03.123456Z", T0 + 123_456),
            ("2025-11-21T20:15:03.123456789Z", T0 + 123_456),
            ("2025-11-21T21:15:03+01:00", T0),
            ("2025-11-21T21:15:03.5+0100", T0 + 500_000),
            ("2025-11-21T19:15:03-01:00", T0),
            ("2025-11-21t20:15:03z", T0),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
        ];
        for (s, want) in cases {
            assert_eq!(parse_rfc3339(s), Ok(want), "{s}");
        }
        assert_eq!(from_epoch_millis(1_763_756_103_123), Ok(T0 + 123_000));
    }

    #[test]
    fn refuses_garbage_and_out_of_range() {
        assert!(parse_rfc3339("yesterday").is_err());
        assert!(parse_rfc3339("2025-11-21").is_err());
        assert!(parse_rfc3339("2025-02-29T00:00:00Z").is_err());
        assert!(parse_rfc3339("2025-11-21T20:15:03").is_err());
        assert!(parse_rfc3339("2025-11-21T20:15:03.Z").is_err());
        assert!(parse_rfc3339("2025-11-21T20:15:03+2400").is_err());
        assert!(parse_rfc3339("2025-11-21T20:15:03Zjunk").is_err());
        assert!(parse_rfc3339("1969-12-31T23:59:59Z").is_err());
        assert!(from_epoch_millis(-1).is_err());
        assert!(from_epoch_millis(i128::MAX).is_err());
    }

    #[test]
    fn formatting_round_trips_across_centuries() {
        for us in [
            0,
            951_782_400_123_456,
            4_107_542_400_000_001,
            T0,
            MAX_MICROS,
            1_709_164_800_000_000,
        ] {
            assert_eq!(parse_rfc3339(&format_micros(us)), Ok(us), "{us}");
        }
    }

    #[test]
    fn formats_with_six_digits_utc() {
        assert_eq!(format_micros(T0 + 7), "2025-11-21T20:15:03.000007Z");
        assert_eq!(format_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(minute_of(T0 + 7), T0 - 3_000_000);
    }
}
