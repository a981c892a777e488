//! Deterministic generation of realistic test documents.

use core::fmt::Write;

/// Seed used by the demo so every run measures the same document.
pub const DEFAULT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// xorshift64*: tiny, fast and good enough to vary document shape; a fixed
/// seed makes the benchmark input identical on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator; a zero seed is bumped because xorshift would stay at 0.
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "id",
    "name",
    "value",
    "items",
    "count",
    "price",
    "tags",
    "user",
    "email",
    "created",
    "active",
    "score",
    "meta",
    "data",
    "kind",
    "version",
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "café",
    "naïve",
    "日本語",
    "zürich",
];

/// Pieces that force the parser's escape path, each already escaped.
const ESCAPES: &[&str] = &[
    "\\n",
    "\\\"",
    "\\\\",
    "\\t",
    "\\/",
    "\\u00e9",
    "\\u4e2d",
    "\\ud83d\\ude00",
    "\\r",
    "\\b",
    "\\f",
    "\\u0001",
];

/// Generates a JSON document of at least `target_bytes` bytes: a top-level
/// array of records, one per line, of nested objects, arrays, plain and
/// escaped strings, integers, floats, booleans and nulls.
pub fn generate(target_bytes: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(target_bytes + 4096);
    out.push_str("[\n");
    let mut first = true;
    while out.len() < target_bytes {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        out.push_str("  ");
        record(&mut rng, &mut out);
    }
    out.push_str("\n]\n");
    out
}

/// One top-level record: an object with a few fixed-ish fields plus random
/// nested content, mimicking typical API payloads.
fn record(rng: &mut Rng, out: &mut String) {
    let id = rng.next_u64() % 1_000_000;
    let _ = write!(out, "{{\"id\": {id}, \"name\": ");
    string(rng, out);
    out.push_str(", \"score\": ");
    number(rng, out);
    out.push_str(", \"active\": ");
    out.push_str(if rng.chance(50) { "true" } else { "false" });
    out.push_str(", \"payload\": ");
    value(rng, out, 0);
    out.push('}');
}

fn value(rng: &mut Rng, out: &mut String, depth: usize) {
    // Containers get rarer with depth so documents stay bounded.
    let container_weight = if depth >= 5 { 0 } else { 30 - depth * 5 };
    let roll = rng.below(100);
    if roll < container_weight {
        if rng.chance(50) {
            object(rng, out, depth + 1);
        } else {
            array(rng, out, depth + 1);
        }
    } else {
        match rng.below(10) {
            0..=3 => string(rng, out),
            4..=6 => number(rng, out),
            7 | 8 => out.push_str(if rng.chance(50) { "true" } else { "false" }),
            _ => out.push_str("null"),
        }
    }
}

fn object(rng: &mut Rng, out: &mut String, depth: usize) {
    let n = rng.below(8);
    out.push('{');
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        key(rng, out);
        out.push_str(": ");
        value(rng, out, depth);
    }
    out.push('}');
}

fn array(rng: &mut Rng, out: &mut String, depth: usize) {
    let n = rng.below(10);
    out.push('[');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        value(rng, out, depth);
    }
    out.push(']');
}

fn key(rng: &mut Rng, out: &mut String) {
    out.push('"');
    out.push_str(WORDS[rng.below(WORDS.len())]);
    if rng.chance(30) {
        let _ = write!(out, "_{}", rng.below(100));
    }
    if rng.chance(3) {
        out.push_str(ESCAPES[rng.below(ESCAPES.len())]);
    }
    out.push('"');
}

fn string(rng: &mut Rng, out: &mut String) {
    out.push('"');
    let words = 1 + rng.below(8);
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS[rng.below(WORDS.len())]);
        if rng.chance(4) {
            out.push_str(ESCAPES[rng.below(ESCAPES.len())]);
        }
    }
    out.push('"');
}

fn number(rng: &mut Rng, out: &mut String) {
    let sign = if rng.chance(20) { "-" } else { "" };
    let _ = match rng.below(6) {
        0 => write!(out, "{sign}{}", rng.below(10)),
        1 | 2 => write!(out, "{sign}{}", rng.next_u64() % 1_000_000_000),
        3 => write!(out, "{sign}{}.{:02}", rng.below(10_000), rng.below(100)),
        4 => write!(
            out,
            "{sign}{}.{}e{}{}",
            1 + rng.below(9),
            rng.below(1_000_000),
            if rng.chance(50) { "-" } else { "+" },
            rng.below(300)
        ),
        _ => write!(out, "{sign}0.{:06}", rng.below(1_000_000)),
    };
}
