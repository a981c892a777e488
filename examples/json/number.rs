//! JSON number grammar and conversion to `f64`.

use crate::json::error::ErrorKind;

/// Powers of ten that are exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest integer every smaller one of which an `f64` holds exactly.
const MAX_EXACT: u64 = 1 << 53;

/// Parses the number starting at `start`, returning it and the end offset.
///
/// On error the offset tells where the grammar broke.  Validation and the
/// decimal mantissa are gathered in one pass; only numbers outside
/// Clinger's fast path (exact mantissa, |exponent| <= 22) pay for the
/// standard library's correctly rounded but slower parser.
#[inline]
pub fn parse_number(src: &str, start: usize) -> Result<(f64, usize), (ErrorKind, usize)> {
    let b = src.as_bytes();
    let mut i = start;
    let negative = b.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut mantissa: u64 = 0;
    let mut exact = true;
    let mut exp10: i32 = 0;
    match b.get(i) {
        Some(b'0') => {
            i += 1;
            if matches!(b.get(i), Some(b'0'..=b'9')) {
                return Err((ErrorKind::LeadingZero, i - 1));
            }
        }
        Some(b'1'..=b'9') => {
            while let Some(&d @ b'0'..=b'9') = b.get(i) {
                accumulate(&mut mantissa, &mut exact, &mut exp10, d, false);
                i += 1;
            }
        }
        _ => return Err((ErrorKind::InvalidNumber, i)),
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !matches!(b.get(i), Some(b'0'..=b'9')) {
            return Err((ErrorKind::InvalidNumber, i));
        }
        while let Some(&d @ b'0'..=b'9') = b.get(i) {
            accumulate(&mut mantissa, &mut exact, &mut exp10, d, true);
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        if !matches!(b.get(i), Some(b'0'..=b'9')) {
            return Err((ErrorKind::InvalidNumber, i));
        }
        let mut e: i32 = 0;
        while let Some(&d @ b'0'..=b'9') = b.get(i) {
            // Saturating keeps absurd exponents from wrapping; anything this
            // large is already zero or infinity.
            e = (e * 10 + i32::from(d - b'0')).min(1_000_000);
            i += 1;
        }
        exp10 += if exp_negative { -e } else { e };
    }

    let value = if exact && mantissa <= MAX_EXACT && (-22..=22).contains(&exp10) {
        let m = mantissa as f64;
        let magnitude = if exp10 >= 0 {
            m * POW10[exp10 as usize]
        } else {
            m / POW10[(-exp10) as usize]
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    } else {
        // The grammar was checked above, and Rust's float grammar is a
        // superset of JSON's, so this cannot fail.
        src[start..i]
            .parse::<f64>()
            .map_err(|_| (ErrorKind::InvalidNumber, start))?
    };
    if !value.is_finite() {
        return Err((ErrorKind::NumberOutOfRange, start));
    }
    Ok((value, i))
}

/// Folds one decimal digit into the mantissa, noting when it stops being
/// exact.
#[inline(always)]
fn accumulate(mantissa: &mut u64, exact: &mut bool, exp10: &mut i32, digit: u8, fraction: bool) {
    if *mantissa < 100_000_000_000_000_000 {
        *mantissa = *mantissa * 10 + u64::from(digit - b'0');
        if fraction {
            *exp10 -= 1;
        }
    } else {
        // Dropped digit: the fast path no longer applies.
        *exact = false;
        if !fraction {
            *exp10 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> f64 {
        let (v, end) = parse_number(s, 0).unwrap();
        assert_eq!(end, s.len(), "{s}");
        v
    }

    #[test]
    fn matches_std_on_fast_and_slow_paths() {
        for s in [
            "0",
            "-0",
            "1",
            "-12",
            "3.25",
            "0.1",
            "1e10",
            "1E+2",
            "2.5e-3",
            "123456789012345678901234567890",
            "9007199254740993",
            "0.30000000000000004",
            "1.7976931348623157e308",
            "5e-324",
            "1e-400",
            "123.456e-20",
            "0.000000000000000000000000001",
        ] {
            assert_eq!(num(s).to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s}");
        }
    }

    #[test]
    fn rejects_overflow() {
        assert_eq!(
            parse_number("1e400", 0),
            Err((ErrorKind::NumberOutOfRange, 0))
        );
    }
}
