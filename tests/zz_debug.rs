#[test]
#[ignore]
fn dump() {
    let p = std::env::var("DUMP").unwrap();
    let src = std::fs::read_to_string(&p).unwrap();
    let lang = mcp_audit::discover::language_of(std::path::Path::new(&p)).unwrap();
    let m = mcp_audit::lang::lower(lang, &p, &src).unwrap();
    let filter = std::env::var("LINE")
        .ok()
        .and_then(|l| l.parse::<u32>().ok());
    for (i, c) in m.calls.iter().enumerate() {
        if filter.is_none_or(|l| c.span.start_line == l) {
            println!(
                "call {i} L{} path={:?} callee={:?} args={:?} func={:?} ctx={:?}",
                c.span.start_line, c.path, c.callee, c.args, c.func, c.ctx
            );
        }
    }
    for b in &m.bindings {
        println!(
            "bind {} = {:?} scope={:?} func={:?} L{}",
            b.name, b.value, b.scope, b.func, b.span.start_line
        );
    }
    for i in &m.imports {
        println!("import {} -> {}", i.local, i.path);
    }
    for (i, f) in m.functions.iter().enumerate() {
        println!(
            "fn {i} {} kind={:?} class={:?} parent={:?} ctx={:?} params={:?}",
            f.name,
            f.kind,
            f.class,
            f.parent,
            f.ctx,
            f.params.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
    }
}
