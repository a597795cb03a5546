use crate::facts::*;
use crate::lang::{lower, LowerError};

fn m(src: &str) -> Module {
    lower(Lang::Rust, "t.rs", src).expect("lowers")
}

fn deep(open: &str, mid: &str, close: &str, n: usize) -> String {
    let mut s = String::from("fn main() { let x = ");
    for _ in 0..n { s.push_str(open); }
    s.push_str(mid);
    for _ in 0..n { s.push_str(close); }
    s.push_str("; }\n");
    s
}

#[test]
fn probe_depths() {
    let shapes: &[(&str, &str, &str, &str)] = &[
        ("paren", "(", "1", ")"),
        ("call", "f(", "1", ")"),
        ("block", "{ ", "1", " }"),
        ("closure", "|| ", "1", ""),
        ("if", "if a { ", "1", " } else { 2 }"),
        ("match", "match a { Err(e) => ", "1", ", _ => 2 }"),
        ("struct", "S { a: ", "1", " }"),
        ("chain", "", "a", ".f()"),
        ("binary", "", "a", " + 1"),
        ("macro", "vec![", "1", "]"),
        ("fmt", "format!(\"{}\", ", "1", ")"),
        ("json", "json!({\"a\": ", "x()", "})"),
        ("array", "[", "1", "]"),
        ("field", "", "a", ".b"),
        ("await", "", "a", ".await"),
        ("try", "", "a", "?"),
        ("ref", "&", "a", ""),
        ("unary", "!", "a", ""),
        ("async", "async { ", "1", " }"),
        ("index", "", "a", "[0]"),
        ("tuple", "(1, ", "1", ")"),
    ];
    for &(name, o, mid, c) in shapes {
        for n in [400usize, 995, 20_000] {
            let src = deep(o, mid, c, n); eprintln!("start {name} {n}");
            let r = std::thread::Builder::new().stack_size(2 << 20).spawn(move || lower(Lang::Rust, "t.rs", &src).map(|m| m.calls.len())).unwrap().join();
            println!("{name} {n}: {:?}", r.as_ref().map(|r| r.as_ref().map_err(|e| e.clone())));
        }
    }
}

#[test]
fn probe_parse() {
    for n in [100usize, 200, 400] {
        let src = deep("(", "1", ")", n);
        eprintln!("parse {n}");
        let s2 = src.clone();
        let r = std::thread::Builder::new().stack_size(2 << 20).spawn(move || crate::lang::parse(Lang::Rust, "t.rs", &s2).map(|t| t.root_node().has_error())).unwrap().join();
        eprintln!("parsed {n}: {:?}", r.is_ok());
        let r = std::thread::Builder::new().stack_size(2 << 20).spawn(move || lower(Lang::Rust, "t.rs", &src).map(|m| m.calls.len())).unwrap().join();
        eprintln!("lowered {n}: {:?}", r.is_ok());
    }
}

#[test]
fn dump() {
    let src = std::fs::read_to_string("/tmp/ex_dump.rs").unwrap();
    let _ = m(&src);
}
