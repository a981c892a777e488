//! A tour of `Arena` in one screen: allocate values, strings and
//! collections, reset in O(1), and see that nothing was copied or leaked.
//!
//! Run with `cargo run --release --example quickstart`.

use allocator_api2::vec::Vec;
use anon_arena::Arena;

/// A tiny expression tree whose nodes live in the arena.
enum Expr<'a> {
    Num(f64),
    Var(&'a str),
    Add(&'a Expr<'a>, &'a Expr<'a>),
    Mul(&'a Expr<'a>, &'a Expr<'a>),
}

fn eval(e: &Expr<'_>, x: f64) -> f64 {
    match e {
        Expr::Num(n) => *n,
        Expr::Var(name) if *name == "x" => x,
        Expr::Var(name) => panic!("unbound variable {name}"),
        Expr::Add(a, b) => eval(a, x) + eval(b, x),
        Expr::Mul(a, b) => eval(a, x) * eval(b, x),
    }
}

/// Builds `x * (x + k)` for each k in 0..n and sums them at x = 2.
fn build_and_sum(arena: &Arena, n: usize) -> f64 {
    let x = &*arena.alloc(Expr::Var(arena.alloc_str("x")));
    let mut terms = Vec::with_capacity_in(n, arena);
    for k in 0..n {
        let k = &*arena.alloc(Expr::Num(k as f64));
        let sum = &*arena.alloc(Expr::Add(x, k));
        terms.push(&*arena.alloc(Expr::Mul(x, sum)));
    }
    terms.iter().map(|t| eval(t, 2.0)).sum()
}

fn main() {
    let mut arena = Arena::new();
    println!(
        "reserved {} MiB of address space (no memory is committed until used)",
        arena.capacity() >> 20
    );

    for round in 1..=3 {
        let start = std::time::Instant::now();
        let total = build_and_sum(&arena, 1_000_000);
        let built = start.elapsed();
        let used = arena.allocated_bytes();
        let start = std::time::Instant::now();
        arena.reset();
        println!(
            "round {round}: 3 million nodes, sum = {total}, {:.1} MiB in {built:.2?}, reset in {:?}",
            used as f64 / (1 << 20) as f64,
            start.elapsed()
        );
    }

    arena.release();
    println!(
        "released: pages handed back to the OS, allocated_bytes = {}",
        arena.allocated_bytes()
    );
}
