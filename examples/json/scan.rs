//! Word-at-a-time search for the bytes that end a plain string run.
//!
//! Most JSON strings are short ASCII without escapes; checking eight bytes
//! per step keeps them off the per-character path without needing SIMD
//! intrinsics or `unsafe`.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// True for the bytes that cannot appear raw in a plain string run.
#[inline]
pub fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// High bit set in each byte lane of `w` that is `"`, `\` or below 0x20.
///
/// The classic "has zero byte" trick can flag false positives, but only in
/// lanes above a true hit (they come from its borrow), so the lowest flagged
/// lane is always exact, which is all the caller uses.
#[inline]
fn special_lanes(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_slash = slash.wrapping_sub(ONES) & !slash;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (zero_quote | zero_slash | control) & HIGHS
}

/// Index of the first special byte at or after `from`, or `bytes.len()`.
#[inline]
pub fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(chunk);
        let hits = special_lanes(u64::from_le_bytes(lanes));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if is_special(b) {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_naive_scan_at_every_offset() {
        let mut text = Vec::new();
        let alphabet = b"ab\"c\\d\x01e\x7f\xc3\xa9fg ";
        for i in 0..300 {
            text.push(alphabet[i * 7 % alphabet.len()]);
        }
        for from in 0..text.len() {
            let naive = (from..text.len())
                .find(|&i| is_special(text[i]))
                .unwrap_or(text.len());
            assert_eq!(find_special(&text, from), naive, "from {from}");
        }
    }
}
