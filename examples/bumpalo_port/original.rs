//! The bumpalo program `examples/bumpalo_port.rs` was ported from, kept
//! as its users wrote it; the port's test checks that both print the same.

use bumpalo::boxed::Box;
use bumpalo::collections::{CollectIn, String, Vec};
use bumpalo::Bump;
use std::cell::Cell;
use std::fmt::Write;

thread_local!(static NAMES_DROPPED: Cell<usize> = const { Cell::new(0) });

/// A variable's name, lower-cased on the heap; counts its drops.
struct Name(std::string::String);

impl Drop for Name {
    fn drop(&mut self) {
        NAMES_DROPPED.set(NAMES_DROPPED.get() + 1);
    }
}

#[derive(Clone, Copy, Debug)]
enum Token<'a> {
    Num(f64),
    Ident(&'a str),
    Sym(char),
}

enum Expr<'a> {
    Num(f64),
    Var(Name),
    Neg(Box<'a, Expr<'a>>),
    Bin(char, Box<'a, Expr<'a>>, Box<'a, Expr<'a>>),
    Call(&'a str, Box<'a, [Expr<'a>]>),
}

struct Error<'a> {
    at: usize,
    message: String<'a>,
}

fn lex<'a>(bump: &'a Bump, src: &'a str) -> Result<&'a [(usize, Token<'a>)], Error<'a>> {
    let mut tokens = Vec::new_in(bump);
    let mut chars = src.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let token = match c {
            ' ' => continue,
            '0'..='9' | '.' => {
                let mut end = at + 1;
                while let Some(&(i, '0'..='9' | '.')) = chars.peek() {
                    end = i + 1;
                    chars.next();
                }
                match src[at..end].parse() {
                    Ok(n) => Token::Num(n),
                    Err(_) => {
                        let message = bumpalo::format!(in bump, "bad number {:?}", &src[at..end]);
                        return Err(Error { at, message });
                    }
                }
            }
            'a'..='z' | 'A'..='Z' => {
                let mut end = at + 1;
                while let Some(&(i, 'a'..='z' | 'A'..='Z' | '0'..='9')) = chars.peek() {
                    end = i + 1;
                    chars.next();
                }
                Token::Ident(&src[at..end])
            }
            '+' | '-' | '*' | '/' | '(' | ')' | ',' => Token::Sym(c),
            _ => {
                let message = bumpalo::format!(in bump, "unexpected character {:?}", c);
                return Err(Error { at, message });
            }
        };
        tokens.push((at, token));
    }
    Ok(tokens.into_bump_slice())
}

struct Parser<'a> {
    bump: &'a Bump,
    tokens: &'a [(usize, Token<'a>)],
    pos: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.pos).map(|&(_, token)| token)
    }

    fn fail<T>(&self, wanted: &str) -> Result<T, Error<'a>> {
        let at = self.tokens.get(self.pos).map_or(self.end, |&(at, _)| at);
        let message = match self.peek() {
            Some(token) => bumpalo::format!(in self.bump, "expected {}, found {:?}", wanted, token),
            None => bumpalo::format!(in self.bump, "expected {}, found the end", wanted),
        };
        Err(Error { at, message })
    }

    fn binary(
        &mut self,
        ops: &str,
        next: fn(&mut Self) -> Result<Expr<'a>, Error<'a>>,
    ) -> Result<Expr<'a>, Error<'a>> {
        let mut left = next(self)?;
        while let Some(Token::Sym(op)) = self.peek() {
            if !ops.contains(op) {
                break;
            }
            self.pos += 1;
            let right = next(self)?;
            left = Expr::Bin(
                op,
                Box::new_in(left, self.bump),
                Box::new_in(right, self.bump),
            );
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr<'a>, Error<'a>> {
        self.binary("+-", Self::product)
    }

    fn product(&mut self) -> Result<Expr<'a>, Error<'a>> {
        self.binary("*/", Self::unary)
    }

    fn unary(&mut self) -> Result<Expr<'a>, Error<'a>> {
        let token = self.peek();
        self.pos += 1;
        match token {
            Some(Token::Sym('-')) => Ok(Expr::Neg(Box::new_in(self.unary()?, self.bump))),
            Some(Token::Num(n)) => Ok(Expr::Num(n)),
            Some(Token::Sym('(')) => {
                let inner = self.sum()?;
                self.expect(')')?;
                Ok(inner)
            }
            Some(Token::Ident(f)) if matches!(self.peek(), Some(Token::Sym('('))) => {
                self.pos += 1;
                let mut args = Vec::new_in(self.bump);
                while !matches!(self.peek(), Some(Token::Sym(')'))) {
                    args.push(self.sum()?);
                    if !matches!(self.peek(), Some(Token::Sym(','))) {
                        break;
                    }
                    self.pos += 1;
                }
                self.expect(')')?;
                Ok(Expr::Call(f, args.into_boxed_slice()))
            }
            Some(Token::Ident(name)) => Ok(Expr::Var(Name(name.to_lowercase()))),
            _ => {
                self.pos -= 1;
                self.fail("a number, a name, '-' or '('")
            }
        }
    }

    fn expect(&mut self, sym: char) -> Result<(), Error<'a>> {
        match self.peek() {
            Some(Token::Sym(c)) if c == sym => {
                self.pos += 1;
                Ok(())
            }
            _ => self.fail(&std::format!("{sym:?}")),
        }
    }
}

fn parse<'a>(bump: &'a Bump, src: &'a str) -> Result<Expr<'a>, Error<'a>> {
    let tokens = lex(bump, src)?;
    let mut parser = Parser {
        bump,
        tokens,
        pos: 0,
        end: src.len(),
    };
    let expr = parser.sum()?;
    match parser.peek() {
        None => Ok(expr),
        Some(_) => parser.fail("an operator or the end"),
    }
}

fn show(out: &mut String<'_>, expr: &Expr<'_>) -> std::fmt::Result {
    match expr {
        Expr::Num(n) => write!(out, "{n}"),
        Expr::Var(name) => out.write_str(&name.0),
        Expr::Neg(inner) => {
            out.push_str("(-");
            show(out, inner)?;
            out.write_str(")")
        }
        Expr::Bin(op, left, right) => {
            out.push('(');
            show(out, left)?;
            write!(out, " {op} ")?;
            show(out, right)?;
            out.write_str(")")
        }
        Expr::Call(f, args) => {
            write!(out, "{f}(")?;
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show(out, arg)?;
            }
            out.write_str(")")
        }
    }
}

fn eval<'a>(bump: &'a Bump, expr: &Expr<'_>, vars: &[(&str, f64)]) -> Result<f64, String<'a>> {
    Ok(match expr {
        Expr::Num(n) => *n,
        Expr::Var(name) => match vars.iter().find(|(var, _)| *var == name.0) {
            Some(&(_, value)) => value,
            None => return Err(bumpalo::format!(in bump, "unknown variable {}", name.0)),
        },
        Expr::Neg(inner) => -eval(bump, inner, vars)?,
        Expr::Bin(op, left, right) => {
            let (left, right) = (eval(bump, left, vars)?, eval(bump, right, vars)?);
            match op {
                '+' => left + right,
                '-' => left - right,
                '*' => left * right,
                _ => left / right,
            }
        }
        Expr::Call(f, args) => {
            let values: Vec<f64> = args
                .iter()
                .map(|arg| eval(bump, arg, vars))
                .collect_in::<Result<_, _>>(bump)?;
            match *f {
                "max" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "min" => values.iter().copied().fold(f64::INFINITY, f64::min),
                "sum" => values.iter().sum(),
                _ => return Err(bumpalo::format!(in bump, "unknown function {}", f)),
            }
        }
    })
}

/// Parses and evaluates each source; returns what `main` prints.
pub fn run(sources: &[&str]) -> std::string::String {
    let mut report = std::string::String::new();
    let mut bump = Bump::new();
    let vars = [("x", 10.0), ("a", 1.0), ("b", 4.0)];
    for src in sources {
        match parse(&bump, src) {
            Ok(expr) => {
                let mut shown = String::new_in(&bump);
                show(&mut shown, &expr).unwrap();
                match eval(&bump, &expr, &vars) {
                    Ok(value) => writeln!(report, "{src:<24} => {shown} = {value}"),
                    Err(message) => writeln!(report, "{src:<24} => {shown}: {message}"),
                }
                .unwrap();
            }
            Err(error) => {
                writeln!(report, "{src:<24} !! at {}: {}", error.at, error.message).unwrap()
            }
        }
        bump.reset();
    }
    writeln!(report, "{} names dropped", NAMES_DROPPED.get()).unwrap();
    report
}
