use crate::facts::*;
use crate::lang::{lower, LowerError};

fn m(src: &str) -> Module {
    lower(Lang::Rust, "t.rs", src).expect("lowers")
}

#[test]
fn dump() {
    let src = std::fs::read_to_string("/tmp/ex_dump.rs").unwrap();
    let m = m(&src);
    for (i, c) in m.calls.iter().enumerate() {
        println!("call {i}: {:?} path={:?} method={:?} recv={:?} args={:?} await={} macro={} func={:?} ctx={:?} line={}", c.callee, c.path, c.method, c.receiver, c.args, c.awaited, c.is_macro, c.func, c.ctx, c.span.start_line);
    }
    for (i, f) in m.functions.iter().enumerate() { println!("func {i}: {:?}", f); }
    for c in &m.classes { println!("class {:?}", c); }
    for b in &m.bindings { println!("bind {} = {:?} {:?} func={:?}", b.name, b.value, b.scope, b.func); }
    for i in &m.imports { println!("import {} -> {}", i.local, i.path); }
    for t in &m.tries { println!("try {:?}", t); }
    for e in &m.exits { println!("exit {:?}", e); }
    for l in &m.loops { println!("loop {:?}", l); }
    for c in &m.comments { println!("comment {:?}", c); }
}
