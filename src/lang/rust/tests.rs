use crate::facts::*;
use crate::lang::{lower, LowerError};

fn m(src: &str) -> Module {
    lower(Lang::Rust, "t.rs", src).expect("lowers")
}

fn name(s: &str) -> Expr {
    Expr::Name(s.into())
}

fn attr(o: Expr, f: &str) -> Expr {
    Expr::Attr(Box::new(o), f.into())
}

/// The calls whose callee is `Name(callee)` or whose method is `callee`.
fn calls<'m>(m: &'m Module, callee: &str) -> Vec<(CallId, &'m Call)> {
    m.calls
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.method.as_deref() == Some(callee) || matches!(&c.callee, Expr::Name(n) if n == callee)
        })
        .map(|(i, c)| (i as CallId, c))
        .collect()
}

fn call<'m>(m: &'m Module, callee: &str) -> (CallId, &'m Call) {
    let cs = calls(m, callee);
    assert!(!cs.is_empty(), "no call {callee}: {:#?}", m.calls);
    cs[0]
}

fn func<'m>(m: &'m Module, n: &str) -> (FuncId, &'m Function) {
    let (i, f) = m
        .functions
        .iter()
        .enumerate()
        .find(|(_, f)| f.name == n)
        .unwrap_or_else(|| panic!("no function {n}"));
    (i as FuncId, f)
}

fn binding<'m>(m: &'m Module, n: &str) -> &'m Binding {
    m.bindings
        .iter()
        .find(|b| b.name == n)
        .unwrap_or_else(|| panic!("no binding {n}: {:#?}", m.bindings))
}

const WEATHER: &str = r#"use rmcp::{tool, tool_router, handler::server::tool::ToolRouter, ServerHandler};
use reqwest::Client;
use std::time::Duration;
#[derive(Clone)]
pub struct Weather { client: Client, tool_router: ToolRouter<Self> }
#[tool_router]
impl Weather {
    pub fn new() -> Self {
        let client = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        Self { client, tool_router: Self::tool_router() }
    }
    #[tool(description = "Get forecast")]
    async fn forecast(&self, Parameters(req): Parameters<Req>) -> Result<CallToolResult, McpError> {
        let resp = self.client.get(format!("{BASE}/forecast/{}", req.city)).send().await
            .map_err(|e| McpError::internal_error(format!("upstream failed: {e}"), None))?;
        let r = tokio::time::timeout(Duration::from_secs(5), reqwest::get(url)).await;
        match fetch(&url).await { Ok(v) => Ok(v), Err(_) => Ok(true) }
    }
}
"#;

#[test]
fn weather_server_builder_chain_and_paths() {
    let m = m(WEATHER);
    let (builder, b) = call(&m, "Client::builder");
    assert_eq!(b.path.as_deref(), Some("reqwest::Client::builder"));
    assert_eq!(b.span.start_line, 9);
    let (timeout, t) = call(&m, "timeout");
    assert_eq!(t.receiver, Some(Expr::Call(builder)));
    let (from_secs, fs) = call(&m, "Duration::from_secs");
    assert_eq!(fs.path.as_deref(), Some("std::time::Duration::from_secs"));
    assert_eq!(
        fs.ctx,
        vec![Ctx::Arg {
            call: timeout,
            index: 0
        }]
    );
    assert_eq!(t.args[0].value, Expr::Call(from_secs));
    let (build, bu) = call(&m, "build");
    assert_eq!(bu.receiver, Some(Expr::Call(timeout)));
    let (unwrap, _) = call(&m, "unwrap");
    assert_eq!(m.call(unwrap).receiver, Some(Expr::Call(build)));
    // The chain's calls start where the chain starts.
    assert_eq!(bu.span.start_byte, b.span.start_byte);
    let (new, _) = func(&m, "new");
    let client = m
        .bindings
        .iter()
        .find(|b| b.name == "client" && b.scope == BindScope::Function(new))
        .unwrap();
    assert_eq!(client.value, Expr::Call(unwrap));
    assert_eq!(m.calls.iter().filter(|c| c.func == Some(new)).count(), 6);
}

#[test]
fn weather_server_class_struct_bindings_and_decorators() {
    let m = m(WEATHER);
    assert_eq!(m.classes.len(), 1);
    let c = &m.classes[0];
    assert_eq!(c.name, "Weather");
    assert_eq!(c.trait_name, None);
    assert_eq!(c.decorators.len(), 1);
    assert_eq!(c.decorators[0].expr, name("tool_router"));
    assert_eq!(c.decorators[0].span.start_line, 6);
    let cb = m.class_bindings("Weather", "client");
    assert_eq!(cb.len(), 1);
    assert_eq!(cb[0].value, name("client"));
    assert_eq!(cb[0].func, Some(func(&m, "new").0));
    let (tr, _) = call(&m, "Self::tool_router");
    assert_eq!(
        m.class_bindings("Weather", "tool_router")[0].value,
        Expr::Call(tr)
    );

    let (fid, f) = func(&m, "forecast");
    assert_eq!(f.kind, FuncKind::Method);
    assert_eq!(f.class, Some(0));
    assert!(f.is_async);
    assert!(!f.exported);
    assert!(func(&m, "new").1.exported);
    assert_eq!(f.span.start_line, 13);
    assert_eq!(f.params.len(), 2);
    assert_eq!(f.params[0].name, "self");
    assert_eq!(f.params[1].annotation.as_deref(), Some("Parameters<Req>"));
    assert_eq!(f.params[1].destructured, vec!["req".to_string()]);
    assert!(m.is_param(Some(fid), "req"));
    let Expr::Call(d) = f.decorators[0].expr else {
        panic!("decorator is a call: {:?}", f.decorators[0].expr)
    };
    let d = m.call(d);
    assert_eq!(d.callee, name("tool"));
    assert_eq!(d.path.as_deref(), Some("rmcp::tool"));
    assert!(d.is_macro);
    assert_eq!(
        d.kwarg("description"),
        Some(&Expr::Str("Get forecast".into()))
    );
    assert_eq!(f.decorators[0].span.start_line, 12);
}

#[test]
fn weather_server_member_calls_templates_and_lambdas() {
    let m = m(WEATHER);
    let (fid, _) = func(&m, "forecast");
    let (get, g) = call(&m, "get");
    assert_eq!(g.receiver, Some(attr(name("self"), "client")));
    assert_eq!(g.path, None);
    assert_eq!(
        g.args[0].value,
        Expr::Template(vec![
            TemplatePart::Expr(name("BASE")),
            TemplatePart::Lit("/forecast/".into()),
            TemplatePart::Expr(attr(name("req"), "city")),
        ])
    );
    // The format! call itself is recorded, as a macro, inside the argument.
    let fmts = calls(&m, "format");
    assert_eq!(fmts.len(), 2);
    let (_, fmt) = fmts[0];
    assert!(fmt.is_macro);
    assert_eq!(
        fmt.ctx,
        vec![Ctx::Arg {
            call: get,
            index: 0
        }]
    );
    assert_eq!(fmt.func, Some(fid));
    assert_eq!(fmt.args[0].value, Expr::Str("{BASE}/forecast/{}".into()));
    assert_eq!(fmt.args[1].value, attr(name("req"), "city"));
    // `format!(` starts at line 14, column 35.
    assert_eq!((fmt.span.start_line, fmt.span.start_col), (14, 35));
    assert_eq!(
        &WEATHER[fmt.span.start_byte as usize..fmt.span.end_byte as usize],
        "format!(\"{BASE}/forecast/{}\", req.city)"
    );

    let (send, s) = call(&m, "send");
    assert!(s.awaited);
    assert_eq!(s.receiver, Some(Expr::Call(get)));
    let (map_err, me) = call(&m, "map_err");
    assert_eq!(me.receiver, Some(Expr::Call(send)));
    assert!(!me.awaited);
    let Expr::Func(lam) = me.args[0].value else {
        panic!("closure arg")
    };
    let lam_f = m.func(lam);
    assert_eq!(lam_f.kind, FuncKind::Lambda);
    assert_eq!(lam_f.parent, Some(fid));
    assert_eq!(
        lam_f.ctx,
        vec![Ctx::Arg {
            call: map_err,
            index: 0
        }]
    );
    assert_eq!(lam_f.params[0].name, "e");
    let (ie, ie_call) = call(&m, "McpError::internal_error");
    assert_eq!(lam_f.expr_body, Some(Expr::Call(ie)));
    assert_eq!(ie_call.func, Some(lam));
    assert_eq!(
        ie_call.args[0].value,
        Expr::Template(vec![
            TemplatePart::Lit("upstream failed: ".into()),
            TemplatePart::Expr(name("e")),
        ])
    );
    assert_eq!(ie_call.args[1].value, name("None"));
    let resp = binding(&m, "resp");
    assert_eq!(resp.value, Expr::Call(map_err));
    assert_eq!(resp.scope, BindScope::Function(fid));
}

#[test]
fn weather_server_timeout_wrapping_and_fail_open_arm() {
    let m = m(WEATHER);
    let (fid, _) = func(&m, "forecast");
    let (to, t) = call(&m, "tokio::time::timeout");
    assert!(t.awaited);
    assert_eq!(t.path.as_deref(), Some("tokio::time::timeout"));
    let (_, rg) = call(&m, "reqwest::get");
    assert_eq!(rg.ctx, vec![Ctx::Arg { call: to, index: 1 }]);
    assert_eq!(rg.path.as_deref(), Some("reqwest::get"));
    assert!(!rg.awaited);

    assert_eq!(m.tries.len(), 1);
    let t = &m.tries[0];
    assert_eq!(t.kind, TryKind::Match);
    assert_eq!(t.func, Some(fid));
    assert_eq!(t.clauses.len(), 1);
    let (_, fetch) = call(&m, "fetch");
    assert_eq!(fetch.ctx, vec![Ctx::Try(0)]);
    assert!(fetch.awaited);
    let c = &t.clauses[0];
    assert_eq!(c.binding, None);
    assert!(c.types.is_empty());
    assert_eq!(
        &WEATHER[c.span.start_byte as usize..c.span.end_byte as usize],
        "Err(_)"
    );
    let oks = calls(&m, "Ok");
    assert_eq!(oks.len(), 2);
    let (ok_true, okt) = oks[1];
    assert_eq!(c.value, Some(Expr::Call(ok_true)));
    assert_eq!(okt.args[0].value, Expr::Bool(true));
    assert_eq!(
        okt.ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 0
        }]
    );
    assert_eq!(oks[0].1.ctx, vec![]);
    // Both arms are the function's value.
    let tails: Vec<&Exit> = m
        .exits
        .iter()
        .filter(|e| e.func == Some(fid) && e.kind == ExitKind::Tail)
        .collect();
    assert_eq!(tails.len(), 2);
    assert_eq!(tails[1].value, Some(Expr::Call(ok_true)));
    assert_eq!(
        tails[1].ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 0
        }]
    );
}

#[test]
fn imports() {
    let m = m(r#"
use a::b::C;
use a::b::C as D;
use a::b::{self, C as C2, d::E as F, g::{H, i::J}};
use a::*;
use ::std::sync::Arc;
use crate::x::y;
use super::z;
use serde::Deserialize as _;
pub use rmcp::model::*;
mod other;
mod inline { use tokio::time::sleep; pub fn f() { sleep(d); } }
fn g() { use reqwest::Client as Http; Http::new(); }
"#);
    let got: Vec<(&str, &str)> = m
        .imports
        .iter()
        .map(|i| (i.local.as_str(), i.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("C", "a::b::C"),
            ("D", "a::b::C"),
            ("b", "a::b"),
            ("C2", "a::b::C"),
            ("F", "a::b::d::E"),
            ("H", "a::b::g::H"),
            ("J", "a::b::g::i::J"),
            ("Arc", "std::sync::Arc"),
            ("y", "crate::x::y"),
            ("z", "super::z"),
            ("sleep", "tokio::time::sleep"),
            ("Http", "reqwest::Client"),
        ]
    );
    assert_eq!(m.imports[0].span.start_line, 2);
    assert_eq!(
        call(&m, "sleep").1.path.as_deref(),
        Some("tokio::time::sleep")
    );
    assert_eq!(
        call(&m, "Http::new").1.path.as_deref(),
        Some("reqwest::Client::new")
    );
    assert_eq!(func(&m, "f").1.kind, FuncKind::Def);
    assert!(func(&m, "f").1.exported);
}

#[test]
fn paths_strip_generics_and_turbofish() {
    let m = m(r#"
fn f() {
    let v = Vec::<u8>::new();
    let x = client.get::<Resp>(url);
    let y = serde_json::from_str::<Value>(s);
    let z = HashMap::<String, Vec<u8>>::with_capacity(4);
    let w = < Self as ServerHandler >::call_tool(x);
    let u = reqwest :: Client :: new();
}
"#);
    assert!(!calls(&m, "Vec::new").is_empty());
    assert_eq!(call(&m, "get").1.receiver, Some(name("client")));
    assert!(!calls(&m, "serde_json::from_str").is_empty());
    assert!(!calls(&m, "HashMap::with_capacity").is_empty());
    assert!(!calls(&m, "<Self as ServerHandler>::call_tool").is_empty());
    assert!(!calls(&m, "reqwest::Client::new").is_empty());
}

#[test]
fn functions_traits_and_impls() {
    let m = m(r#"
#[tool_handler]
impl ServerHandler for Weather {
    fn get_info(&self) -> ServerInfo { ServerInfo::default() }
    async fn call_tool(&self, request: CallToolRequestParam, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        fn inner(x: u32) -> u32 { x }
        self.dispatch(request).await
    }
}
impl<'a, T: Clone> From<&'a T> for &'a mut store::Cache<T> where T: Send {
    fn from(t: &'a T) -> Self { todo!() }
}
pub trait Fetch {
    fn url(&self) -> String;
    async fn fetch(&self) -> Result<String> { reqwest::get(self.url()).await?.text().await }
}
#[tokio::main]
async fn main() -> anyhow::Result<()> { Ok(()) }
pub(crate) unsafe fn raw(mut n: usize, (a, b): (u8, u8), Config { host, port: p, .. }: Config) {}
"#);
    assert_eq!(m.classes.len(), 3);
    let c = &m.classes[0];
    assert_eq!(c.name, "Weather");
    assert_eq!(c.trait_name.as_deref(), Some("ServerHandler"));
    assert_eq!(c.decorators[0].expr, name("tool_handler"));
    assert_eq!(m.classes[1].name, "Cache");
    assert_eq!(m.classes[1].trait_name.as_deref(), Some("From"));
    assert_eq!(m.classes[2].name, "Fetch");

    let (ct, f) = func(&m, "call_tool");
    assert_eq!(f.kind, FuncKind::Method);
    assert_eq!(f.class, Some(0));
    assert!(f.is_async);
    assert!(f.exported, "trait methods are reachable through the trait");
    let ps: Vec<(&str, Option<&str>)> = f
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.annotation.as_deref()))
        .collect();
    assert_eq!(
        ps,
        vec![
            ("self", None),
            ("request", Some("CallToolRequestParam")),
            ("ctx", Some("RequestContext<RoleServer>")),
        ]
    );
    let (_, inner) = func(&m, "inner");
    assert_eq!(inner.kind, FuncKind::Def);
    assert_eq!(inner.class, None);
    assert_eq!(inner.parent, Some(ct));
    let (_, d) = call(&m, "dispatch");
    assert!(d.awaited);
    assert_eq!(d.func, Some(ct));
    assert_eq!(
        m.class_of(Some(ct)).map(|c| c.name.as_str()),
        Some("Weather")
    );

    let (fe, f) = func(&m, "fetch");
    assert_eq!(f.kind, FuncKind::Method);
    assert_eq!(f.class, Some(2));
    assert!(f.is_async);
    assert_eq!(m.functions.iter().filter(|f| f.name == "url").count(), 0);
    let (_, text) = call(&m, "text");
    assert!(text.awaited);
    let (rg, g) = call(&m, "reqwest::get");
    assert!(g.awaited);
    assert_eq!(text.receiver, Some(Expr::Call(rg)));
    let tail = m.exits.iter().find(|e| e.func == Some(fe)).unwrap();
    assert_eq!(tail.kind, ExitKind::Tail);
    assert_eq!(tail.value, Some(Expr::Call(calls(&m, "text")[0].0)));

    let (_, main) = func(&m, "main");
    assert_eq!(main.decorators[0].expr, name("tokio::main"));
    assert!(!main.exported);
    let (_, raw) = func(&m, "raw");
    assert!(raw.exported);
    assert!(!raw.is_async);
    assert_eq!(raw.params[0].name, "n");
    assert_eq!(raw.params[1].destructured, vec!["a", "b"]);
    assert_eq!(raw.params[2].destructured, vec!["host", "p"]);
}

#[test]
fn attribute_arguments() {
    let m = m(r#"
impl S {
    #[tool(name = "get_weather", description = r"Forecast", annotations(read_only_hint = true, title = "W"))]
    #[instrument(skip(self), level = "debug")]
    // a comment between attributes
    #[rmcp::tool]
    #[cfg_attr(test, allow(dead_code))]
    #[timeout = -5]
    async fn w(&self) {}
}
"#);
    let (_, f) = func(&m, "w");
    assert_eq!(f.decorators.len(), 5);
    let Expr::Call(t) = f.decorators[0].expr else {
        panic!()
    };
    let t = m.call(t);
    assert_eq!(t.kwarg("name"), Some(&Expr::Str("get_weather".into())));
    assert_eq!(t.kwarg("description"), Some(&Expr::Str("Forecast".into())));
    let Some(Expr::Object(o)) = t.kwarg("annotations") else {
        panic!("{:?}", t.args)
    };
    assert_eq!(o.get("read_only_hint"), Some(&Expr::Bool(true)));
    assert_eq!(o.get("title"), Some(&Expr::Str("W".into())));
    let Expr::Call(i) = f.decorators[1].expr else {
        panic!()
    };
    let i = m.call(i);
    assert_eq!(i.callee, name("instrument"));
    assert_eq!(i.kwarg("level"), Some(&Expr::Str("debug".into())));
    assert!(matches!(i.kwarg("skip"), Some(Expr::Object(o)) if o.get("self").is_some()));
    assert_eq!(f.decorators[2].expr, name("rmcp::tool"));
    let Expr::Call(c) = f.decorators[3].expr else {
        panic!()
    };
    assert_eq!(m.call(c).args[0].value, name("test"));
    // `#[key = value]` is the attribute's name.
    assert_eq!(f.decorators[4].expr, name("timeout"));
    // `#[derive(..)]` on a struct is not lowered.
    let m2 = self::m("#[derive(Clone, Debug)]\nstruct S { a: u8 }\n");
    assert!(m2.calls.is_empty());
}

#[test]
fn struct_expressions_and_class_bindings() {
    let m = m(r#"
struct Config { timeout: u64 }
impl Api {
    pub fn new(cfg: &Config) -> Self {
        let pool = PgPoolOptions::new().max_connections(5).connect_lazy(&cfg.url).unwrap();
        let http = Client::new();
        let me = Api { http: http.clone(), pool, retries: 3, ..Default::default() };
        me
    }
    fn reset(&mut self) { self.http = Client::builder().build().unwrap(); self.count += 1; }
}
fn outside() -> Api { Api { http: Client::new(), pool: p, retries: 0 } }
fn opts() -> Opts { Opts { timeout: Some(Duration::from_secs(3)), ..Opts::default() } }
"#);
    let http = m.class_bindings("Api", "http");
    assert_eq!(http.len(), 2);
    let (clone, _) = call(&m, "clone");
    assert_eq!(http[0].value, Expr::Call(clone));
    assert_eq!(http[0].span.start_line, 7);
    let (unwrap2, _) = calls(&m, "unwrap")[1];
    assert_eq!(http[1].value, Expr::Call(unwrap2));
    assert_eq!(http[1].scope, BindScope::Class("Api".into()));
    assert_eq!(m.class_bindings("Api", "pool")[0].value, name("pool"));
    assert_eq!(
        m.class_bindings("Api", "retries")[0].value,
        Expr::Num("3".into())
    );
    assert!(m.class_bindings("Api", "count").is_empty());
    let me = binding(&m, "me");
    let Expr::Object(o) = &me.value else { panic!() };
    assert_eq!(o.type_name.as_deref(), Some("Api"));
    assert!(o.spread);
    assert_eq!(o.entries.len(), 3);
    assert!(!calls(&m, "Default::default").is_empty());
    // `outside` is not in the impl: no class bindings from it.
    assert_eq!(m.class_bindings("Api", "retries").len(), 1);
    let (_, o2) = func(&m, "opts");
    let _ = o2;
    let (from_secs, fs) = call(&m, "Duration::from_secs");
    let (some, _) = call(&m, "Some");
    assert_eq!(
        fs.ctx,
        vec![Ctx::Arg {
            call: some,
            index: 0
        }]
    );
    let tail = m
        .exits
        .iter()
        .find(|e| e.func == Some(func(&m, "opts").0))
        .unwrap();
    let Some(Expr::Object(o)) = &tail.value else {
        panic!()
    };
    assert_eq!(o.get("timeout"), Some(&Expr::Call(some)));
    assert!(o.spread);
    let _ = from_secs;
}

#[test]
fn lets_statics_and_named_closures() {
    let m = m(r#"
static CLIENT: Lazy<Client> = Lazy::new(|| Client::builder().timeout(T).build().unwrap());
const RETRIES: u32 = 3;
static HANDLER: fn() = || {};
fn f(x: u32) {
    let mut n = 0;
    let (a, b) = pair();
    let handler = async move |req: Req| { let r = process(req).await; r };
    let y: u64;
    n = n + 1;
}
"#);
    let (lazy, _) = call(&m, "Lazy::new");
    let c = binding(&m, "CLIENT");
    assert_eq!(c.scope, BindScope::Module);
    assert_eq!(c.func, None);
    assert_eq!(c.value, Expr::Call(lazy));
    let Expr::Func(init) = m.call(lazy).args[0].value else {
        panic!()
    };
    let (unwrap, _) = call(&m, "unwrap");
    assert_eq!(m.func(init).expr_body, Some(Expr::Call(unwrap)));
    assert_eq!(m.func(init).parent, None);
    assert_eq!(binding(&m, "RETRIES").value, Expr::Num("3".into()));
    let (hid, h) = func(&m, "handler");
    assert_eq!(h.kind, FuncKind::Lambda);
    assert!(h.is_async);
    assert_eq!(h.params[0].annotation.as_deref(), Some("Req"));
    assert_eq!(binding(&m, "handler").value, Expr::Func(hid));
    let r = binding(&m, "r");
    assert_eq!(r.scope, BindScope::Function(hid));
    let tail = m.exits.iter().find(|e| e.func == Some(hid)).unwrap();
    assert_eq!(
        (tail.kind, tail.value.clone()),
        (ExitKind::Tail, Some(name("r")))
    );
    assert_eq!(func(&m, "HANDLER").1.kind, FuncKind::Lambda);
    let (fid, _) = func(&m, "f");
    let ns: Vec<&Binding> = m.bindings_of(Some(fid), "n");
    assert_eq!(ns.len(), 2);
    assert_eq!(ns[0].value, Expr::Num("0".into()));
    assert!(matches!(ns[1].value, Expr::Binary { ref op, .. } if op == "+"));
    assert!(m.bindings.iter().all(|b| b.name != "a" && b.name != "y"));
    assert!(!calls(&m, "pair").is_empty());
}

#[test]
fn let_else_is_a_try() {
    let src = r#"
async fn auth(token: &str) -> bool {
    let Ok(claims) = verify(token).await else {
        log::warn!("bad token");
        return true;
    };
    let Some(v) = lookup() else { continue_anyway() };
    claims.ok
}
"#;
    let m = m(src);
    assert_eq!(m.tries.len(), 2);
    let t = &m.tries[0];
    assert_eq!(t.kind, TryKind::LetElse);
    assert_eq!(t.span.start_line, 3);
    let (_, v) = call(&m, "verify");
    assert_eq!(v.ctx, vec![Ctx::Try(0)]);
    let (_, w) = call(&m, "log::warn");
    assert_eq!(
        w.ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 0
        }]
    );
    let c = &t.clauses[0];
    assert_eq!(c.value, Some(Expr::Bool(true)));
    assert_eq!(c.span.start_line, 3);
    assert_eq!(c.span.end_line, 6);
    let ret = m.exits.iter().find(|e| e.kind == ExitKind::Return).unwrap();
    assert_eq!(ret.value, Some(Expr::Bool(true)));
    assert_eq!(
        ret.ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 0
        }]
    );
    let (cont, _) = call(&m, "continue_anyway");
    assert_eq!(m.tries[1].clauses[0].value, Some(Expr::Call(cont)));
    let tail = m.exits.iter().find(|e| e.kind == ExitKind::Tail).unwrap();
    assert_eq!(tail.value, Some(attr(name("claims"), "ok")));
}

#[test]
fn match_on_result_arms() {
    let m = m(r#"
async fn get(c: &Client) -> Result<String, McpError> {
    let body = match tokio::time::timeout(D, c.get(u).send()).await {
        Ok(Ok(resp)) => resp.text().await?,
        Ok(Err(e)) | Err(e @ _) => return Err(McpError::internal_error(e.to_string(), None)),
        Err(elapsed) => { tracing::error!("timed out: {elapsed}"); String::new() }
    };
    match cache.get(&k) { Some(v) => v.clone(), None => fetch().await }
}
"#);
    assert_eq!(m.tries.len(), 1);
    let t = &m.tries[0];
    assert_eq!(t.clauses.len(), 2);
    let (to, tc) = call(&m, "tokio::time::timeout");
    assert_eq!(tc.ctx, vec![Ctx::Try(0)]);
    let (_, send) = call(&m, "send");
    assert_eq!(send.ctx, vec![Ctx::Try(0), Ctx::Arg { call: to, index: 1 }]);
    let (_, text) = call(&m, "text");
    assert_eq!(text.ctx, vec![]);
    assert_eq!(t.clauses[0].binding.as_deref(), Some("e"));
    let (err, _) = call(&m, "Err");
    assert_eq!(t.clauses[0].value, Some(Expr::Call(err)));
    let (_, ts) = call(&m, "to_string");
    assert_eq!(
        ts.ctx[0],
        Ctx::Catch {
            try_id: 0,
            clause: 0
        }
    );
    assert_eq!(t.clauses[1].binding.as_deref(), Some("elapsed"));
    let (new, _) = call(&m, "String::new");
    assert_eq!(t.clauses[1].value, Some(Expr::Call(new)));
    let (_, log) = call(&m, "tracing::error");
    assert_eq!(
        log.ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 1
        }]
    );
    assert_eq!(log.args[0].value, Expr::Str("timed out: {elapsed}".into()));
    // The non-Result match is no try; both its arms are tails.
    let tails: Vec<&Exit> = m
        .exits
        .iter()
        .filter(|e| e.kind == ExitKind::Tail)
        .collect();
    assert_eq!(tails.len(), 2);
    let (fetch, f) = call(&m, "fetch");
    assert!(f.awaited);
    assert_eq!(tails[1].value, Some(Expr::Call(fetch)));
}

#[test]
fn if_let_err_and_if_let_ok_else() {
    let m = m(r#"
fn check(x: R) -> bool {
    if let Err(e) = validate(x) {
        eprintln!("invalid: {e}");
        return true;
    }
    if let Ok(user) = authorize(x) { user.admin } else if fallback() { true } else { false }
}
"#);
    assert_eq!(m.tries.len(), 2);
    let t0 = &m.tries[0];
    assert_eq!(t0.kind, TryKind::Match);
    assert_eq!(t0.clauses[0].binding.as_deref(), Some("e"));
    assert_eq!(t0.clauses[0].value, Some(Expr::Bool(true)));
    assert_eq!(call(&m, "validate").1.ctx, vec![Ctx::Try(0)]);
    let (_, ep) = call(&m, "eprintln");
    assert_eq!(
        ep.ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 0
        }]
    );
    let t1 = &m.tries[1];
    assert_eq!(t1.clauses[0].binding, None);
    assert_eq!(call(&m, "authorize").1.ctx, vec![Ctx::Try(1)]);
    assert_eq!(
        call(&m, "fallback").1.ctx,
        vec![Ctx::Catch {
            try_id: 1,
            clause: 0
        }]
    );
    // The else branch's value is a conditional.
    assert!(matches!(
        t1.clauses[0].value,
        Some(Expr::Conditional { .. })
    ));
    let tails: Vec<(Option<Expr>, Vec<Ctx>)> = m
        .exits
        .iter()
        .filter(|e| e.kind == ExitKind::Tail)
        .map(|e| (e.value.clone(), e.ctx.clone()))
        .collect();
    let catch = vec![Ctx::Catch {
        try_id: 1,
        clause: 0,
    }];
    assert_eq!(
        tails,
        vec![
            (Some(attr(name("user"), "admin")), vec![]),
            (Some(Expr::Bool(true)), catch.clone()),
            (Some(Expr::Bool(false)), catch),
        ]
    );
}

#[test]
fn loops_and_exits() {
    let m = m(r#"
async fn retry(client: &Client) -> Result<Resp> {
    let mut attempt = 0;
    loop {
        match client.get(URL).send().await {
            Ok(r) => return Ok(r),
            Err(e) if attempt < 3 => { attempt += 1; tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await; continue; }
            Err(e) => break Err(e.into()),
        }
    }
}
fn each(items: Vec<Item>) {
    for (i, Item { id, .. }) in items.into_iter().enumerate() { if i > 10 { break; } save(id); }
    while let Some(job) = queue.pop() { run(job); }
    'outer: while running() { continue 'outer; }
}
"#);
    assert_eq!(m.loops.len(), 4);
    let l = &m.loops[0];
    assert_eq!(l.kind, LoopKind::Loop);
    let (_, send) = call(&m, "send");
    assert_eq!(send.ctx, vec![Ctx::Loop(0), Ctx::Try(0)]);
    let (_, sleep) = call(&m, "tokio::time::sleep");
    assert!(sleep.awaited);
    assert_eq!(
        sleep.ctx,
        vec![
            Ctx::Loop(0),
            Ctx::Catch {
                try_id: 0,
                clause: 0
            }
        ]
    );
    let (_, pow) = call(&m, "pow");
    assert_eq!(pow.receiver, Some(Expr::Num("2u64".into())));
    let kinds: Vec<ExitKind> = m.exits.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ExitKind::Return,
            ExitKind::Continue,
            ExitKind::Break,
            ExitKind::Break,
            ExitKind::Continue
        ]
    );
    assert_eq!(m.exits[2].value, Some(Expr::Call(call(&m, "Err").0)));
    assert_eq!(m.tries[0].clauses.len(), 2);
    let f = &m.loops[1];
    assert_eq!(f.kind, LoopKind::ForEach);
    assert_eq!(f.vars, vec!["i", "id"]);
    assert_eq!(f.iter, Some(Expr::Call(call(&m, "enumerate").0)));
    assert_eq!(call(&m, "save").1.ctx, vec![Ctx::Loop(1)]);
    assert_eq!(call(&m, "into_iter").1.ctx, vec![]);
    let w = &m.loops[2];
    assert_eq!(w.kind, LoopKind::While);
    assert_eq!(w.cond, Some(Expr::Call(call(&m, "pop").0)));
    assert_eq!(call(&m, "pop").1.ctx, vec![]);
    assert_eq!(call(&m, "run").1.ctx, vec![Ctx::Loop(2)]);
    assert_eq!(m.loops[3].cond, Some(Expr::Call(call(&m, "running").0)));
    assert_eq!(m.exits[4].ctx, vec![Ctx::Loop(3)]);
}

#[test]
fn format_macros_make_templates() {
    let m = m(r#"
fn f(e: Error, w: &mut String) -> Result<()> {
    let a = format!("{}:{:?} {{lit}} {name} {0}", host, port, name = user.name());
    let b = anyhow::anyhow!("request failed: {e:#}");
    write!(w, "{}", e)?;
    let c = format!("plain");
    if bad() { bail!("upstream error: {}", e) }
    Err(anyhow!(e))
}
"#);
    let (nm, _) = call(&m, "name");
    assert_eq!(
        binding(&m, "a").value,
        Expr::Template(vec![
            TemplatePart::Expr(name("host")),
            TemplatePart::Lit(":".into()),
            TemplatePart::Expr(name("port")),
            TemplatePart::Lit(" {lit} ".into()),
            TemplatePart::Expr(Expr::Call(nm)),
            TemplatePart::Lit(" ".into()),
            TemplatePart::Expr(name("host")),
        ])
    );
    let (fmt, fc) = call(&m, "format");
    assert_eq!(fc.args.len(), 4);
    assert_eq!(fc.args[3].name.as_deref(), Some("name"));
    assert_eq!(
        m.call(nm).ctx,
        vec![Ctx::Arg {
            call: fmt,
            index: 3
        }]
    );
    let (_, an) = call(&m, "anyhow::anyhow");
    assert!(an.is_macro);
    assert_eq!(
        binding(&m, "b").value,
        Expr::Template(vec![
            TemplatePart::Lit("request failed: ".into()),
            TemplatePart::Expr(name("e")),
        ])
    );
    let (_, wr) = call(&m, "write");
    assert_eq!(wr.args[0].value, name("w"));
    assert_eq!(
        binding(&m, "c").value,
        Expr::Template(vec![TemplatePart::Lit("plain".into())])
    );
    let raise = m.exits.iter().find(|e| e.kind == ExitKind::Raise).unwrap();
    assert_eq!(
        raise.value,
        Some(Expr::Template(vec![
            TemplatePart::Lit("upstream error: ".into()),
            TemplatePart::Expr(name("e")),
        ]))
    );
    let (_, err) = call(&m, "Err");
    assert_eq!(err.args[0].value, Expr::Call(call(&m, "anyhow").0));
    assert_eq!(call(&m, "anyhow").1.args[0].value, name("e"));
}

#[test]
fn macro_spans_map_into_the_file() {
    let src = "fn f() {\n    let s = format!(\"{}-{}\", a.b(),\n        c(d(),\n  e()));\n    let v = vec![x(), vec![y()]];\n}\n";
    let m = m(src);
    let text = |c: &Call| &src[c.span.start_byte as usize..c.span.end_byte as usize];
    let pos = |c: &Call| {
        (
            c.span.start_line,
            c.span.start_col,
            c.span.end_line,
            c.span.end_col,
        )
    };
    let (_, b) = call(&m, "b");
    assert_eq!(text(b), "a.b()");
    assert_eq!(pos(b), (2, 29, 2, 34));
    let (cid, c) = call(&m, "c");
    assert_eq!(text(c), "c(d(),\n  e())");
    assert_eq!(pos(c), (3, 8, 4, 6));
    let (_, d) = call(&m, "d");
    assert_eq!(pos(d), (3, 10, 3, 13));
    let (_, e) = call(&m, "e");
    assert_eq!(pos(e), (4, 2, 4, 5));
    assert_eq!(
        e.ctx[1],
        Ctx::Arg {
            call: cid,
            index: 1
        }
    );
    let (_, y) = call(&m, "y");
    assert_eq!(text(y), "y()");
    assert_eq!(pos(y), (5, 27, 5, 30));
    let vecs = calls(&m, "vec");
    assert_eq!(vecs.len(), 2);
    assert_eq!(
        y.ctx,
        vec![
            Ctx::Arg {
                call: vecs[0].0,
                index: 1
            },
            Ctx::Arg {
                call: vecs[1].0,
                index: 0
            }
        ]
    );
    assert_eq!(text(vecs[1].1), "vec![y()]");
}

#[test]
fn join_macros_and_async_blocks() {
    let m = m(r#"
async fn both(c: &Client) {
    let (a, b) = tokio::try_join!(c.get(A).send(), async { c.get(B).send().await?.json::<V>().await })?;
    let r = tokio::time::timeout(Duration::from_secs(2), async move { fetch_all().await }).await;
    tokio::spawn(async move { loop { tick().await; } });
}
"#);
    let (tj, t) = call(&m, "tokio::try_join");
    assert!(t.is_macro);
    assert_eq!(t.args.len(), 2);
    assert_eq!(t.path.as_deref(), Some("tokio::try_join"));
    let sends = calls(&m, "send");
    assert_eq!(sends[0].1.ctx, vec![Ctx::Arg { call: tj, index: 0 }]);
    assert!(sends[1].1.awaited);
    // An async block is a future run where it is awaited: a lambda, handed
    // to the call that holds it.
    let (fid, _) = func(&m, "both");
    let block = sends[1].1.func.expect("inside the async block");
    assert_ne!(block, fid);
    assert_eq!(m.func(block).kind, FuncKind::Lambda);
    assert_eq!(m.func(block).parent, Some(fid));
    assert_eq!(m.func(block).ctx, vec![Ctx::Arg { call: tj, index: 1 }]);
    assert!(sends[1].1.ctx.is_empty());
    assert_eq!(m.functions.len(), 4, "three async blocks");
    let (to, _) = call(&m, "tokio::time::timeout");
    let inner = call(&m, "fetch_all").1.func.unwrap();
    assert_eq!(m.func(inner).ctx, vec![Ctx::Arg { call: to, index: 1 }]);
    let (sp, _) = call(&m, "tokio::spawn");
    let (_, tick) = call(&m, "tick");
    assert_eq!(tick.ctx, vec![Ctx::Loop(0)]);
    assert_eq!(
        m.func(tick.func.unwrap()).ctx,
        vec![Ctx::Arg { call: sp, index: 0 }]
    );
}

#[test]
fn json_macro_is_an_object() {
    let m = m(r#"
fn body(id: u32) {
    let v = serde_json::json!({
        "id": id,
        "name": user.name(),
        "tags": ["a", tag()],
        "nested": { "deep": -1, "ok": true, "none": null },
        "n": 2.5
    });
    client.post(URL).json(&json!({"timeout": 5})).send();
}
"#);
    let (j, jc) = call(&m, "serde_json::json");
    assert!(jc.is_macro);
    let Expr::Object(o) = &binding(&m, "v").value else {
        panic!("{:?}", binding(&m, "v").value)
    };
    assert_eq!(o.get("id"), Some(&name("id")));
    let (nm, n) = call(&m, "name");
    assert_eq!(o.get("name"), Some(&Expr::Call(nm)));
    assert_eq!(n.ctx, vec![Ctx::Arg { call: j, index: 0 }]);
    assert_eq!(n.span.start_line, 5);
    let (tag, _) = call(&m, "tag");
    assert_eq!(
        o.get("tags"),
        Some(&Expr::Array(vec![Expr::Str("a".into()), Expr::Call(tag)]))
    );
    let Some(Expr::Object(nested)) = o.get("nested") else {
        panic!()
    };
    assert!(matches!(nested.get("deep"), Some(Expr::Unary { .. })));
    assert_eq!(nested.get("ok"), Some(&Expr::Bool(true)));
    assert_eq!(nested.get("none"), Some(&Expr::Null));
    assert_eq!(o.get("n"), Some(&Expr::Num("2.5".into())));
    assert_eq!(jc.args[0].value, Expr::Object(o.clone()));
    let (_, js) = call(&m, "json");
    let Expr::Object(o2) = &js.args[0].value else {
        panic!()
    };
    assert_eq!(o2.get("timeout"), Some(&Expr::Num("5".into())));
    let (_, jsn) = calls(&m, "json")[0];
    let _ = jsn;
    let (_, json_method) = calls(&m, "json")
        .into_iter()
        .find(|(_, c)| c.method.is_some())
        .unwrap();
    assert_eq!(json_method.args[0].value, Expr::Object(o2.clone()));
}

#[test]
fn select_macro_branches() {
    let m = m(r#"
async fn serve(mut rx: Receiver<Msg>, d: Duration) {
    loop {
        tokio::select! {
            biased;
            Some(msg) = rx.recv(), if ready() => { handle(msg).await; }
            _ = tokio::time::sleep(d) => break,
            res = client.get(u).send() => match res { Ok(r) => use_it(r), Err(_) => {} },
            else => { idle() }
        }
    }
}
"#);
    let (sel, s) = call(&m, "tokio::select");
    assert!(s.is_macro);
    assert_eq!(s.ctx, vec![Ctx::Loop(0)]);
    assert_eq!(s.args.len(), 3);
    let (recv, r) = call(&m, "recv");
    assert_eq!(s.args[0].value, Expr::Call(recv));
    assert_eq!(
        r.ctx,
        vec![
            Ctx::Loop(0),
            Ctx::Arg {
                call: sel,
                index: 0
            }
        ]
    );
    assert_eq!((r.span.start_line, r.span.start_col), (6, 24));
    assert_eq!(call(&m, "ready").1.ctx, vec![Ctx::Loop(0)]);
    let (_, h) = call(&m, "handle");
    assert!(h.awaited);
    assert_eq!(h.ctx, vec![Ctx::Loop(0)]);
    assert_eq!(
        call(&m, "tokio::time::sleep").1.ctx,
        vec![
            Ctx::Loop(0),
            Ctx::Arg {
                call: sel,
                index: 1
            }
        ]
    );
    let brk = m.exits.iter().find(|e| e.kind == ExitKind::Break).unwrap();
    assert_eq!(brk.ctx, vec![Ctx::Loop(0)]);
    assert_eq!(brk.span.start_line, 7);
    let (send, _) = call(&m, "send");
    assert_eq!(s.args[2].value, Expr::Call(send));
    assert_eq!(m.tries.len(), 1);
    assert_eq!(call(&m, "use_it").1.ctx, vec![Ctx::Loop(0)]);
    assert_eq!(call(&m, "idle").1.ctx, vec![Ctx::Loop(0)]);
}

#[test]
fn log_and_tracing_macros() {
    let m = m(r#"
fn f(e: Error, id: u64) {
    tracing::warn!(user_id = %id, error = ?e, "upstream failed: {}", e);
    log::error!(target: "mcp", "boom {e}");
    debug!(?e, "x");
}
"#);
    let (_, w) = call(&m, "tracing::warn");
    assert_eq!(w.kwarg("user_id"), Some(&name("id")));
    assert_eq!(w.kwarg("error"), Some(&name("e")));
    assert_eq!(
        w.positional(0),
        Some(&Expr::Str("upstream failed: {}".into()))
    );
    assert_eq!(w.positional(1), Some(&name("e")));
    let (_, l) = call(&m, "log::error");
    assert_eq!(l.kwarg("target"), Some(&Expr::Str("mcp".into())));
    let (_, d) = call(&m, "debug");
    assert_eq!(d.positional(0), Some(&name("e")));
}

#[test]
fn item_macros_are_lowered_in_place() {
    let m = m(r#"
lazy_static! {
    static ref HTTP: reqwest::Client = reqwest::Client::builder().pool_max_idle_per_host(4).build().unwrap();
}
thread_local! { static CONN: RefCell<Option<Conn>> = RefCell::new(connect()); }
fn f() { sqlx::query!("SELECT * FROM t WHERE id = $1", id).fetch_one(&pool).await; }
"#);
    let (_, ls) = call(&m, "lazy_static");
    assert!(ls.is_macro);
    let (unwrap, _) = call(&m, "unwrap");
    let http = binding(&m, "HTTP");
    assert_eq!(http.scope, BindScope::Module);
    assert_eq!(http.value, Expr::Call(unwrap));
    let (_, b) = call(&m, "reqwest::Client::builder");
    assert_eq!(b.func, None);
    assert_eq!(b.span.start_line, 3);
    assert_eq!(
        binding(&m, "CONN").value,
        Expr::Call(call(&m, "RefCell::new").0)
    );
    let (q, qc) = call(&m, "sqlx::query");
    assert_eq!(
        qc.args[0].value,
        Expr::Str("SELECT * FROM t WHERE id = $1".into())
    );
    assert_eq!(qc.args[1].value, name("id"));
    assert_eq!(call(&m, "fetch_one").1.receiver, Some(Expr::Call(q)));
}

#[test]
fn comments_are_recorded_once() {
    let src = r#"//! crate docs
/// A client.
fn f() {
    let c = Client::builder()
        // mcp-audit: ignore MCP101
        .build(); /* trailing */
    let u = "http://example.com/a//b"; let x = a / b;
    let s = format!("{}", /* in macro */ u);
    /* outer /* nested */ still outer */
}
"#;
    let m = m(src);
    let texts: Vec<&str> = m.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "//! crate docs",
            "/// A client.",
            "// mcp-audit: ignore MCP101",
            "/* trailing */",
            "/* in macro */",
            "/* outer /* nested */ still outer */",
        ]
    );
    assert_eq!(
        (m.comments[2].span.start_line, m.comments[2].span.start_col),
        (5, 8)
    );
    assert_eq!(call(&m, "format").1.args[1].value, name("u"));
}

#[test]
fn expressions() {
    let m = m(r##"
fn f(x: Option<u8>) {
    let a = r#"raw "str""#;
    let b = b"bytes";
    let c = 'c';
    let d = !ready && -x.y > 1_000;
    let e = &mut self.items[0];
    let g = (1, "two", None);
    let h = if fast { 10 } else { 60 };
    let i = x as u64;
    let j = [0u8; 16];
    let k = *ptr;
    let l = call_me.clone()(1);
}
"##);
    assert_eq!(binding(&m, "a").value, Expr::Str("raw \"str\"".into()));
    assert_eq!(binding(&m, "b").value, Expr::Str("bytes".into()));
    assert_eq!(binding(&m, "c").value, Expr::Str("c".into()));
    let Expr::Binary { op, lhs, rhs } = &binding(&m, "d").value else {
        panic!()
    };
    assert_eq!(op, "&&");
    assert_eq!(
        **lhs,
        Expr::Unary {
            op: "!".into(),
            operand: Box::new(name("ready"))
        }
    );
    assert!(matches!(&**rhs, Expr::Binary { op, .. } if op == ">"));
    assert_eq!(
        binding(&m, "e").value,
        Expr::Index(
            Box::new(attr(name("self"), "items")),
            Box::new(Expr::Num("0".into()))
        )
    );
    assert_eq!(
        binding(&m, "g").value,
        Expr::Array(vec![
            Expr::Num("1".into()),
            Expr::Str("two".into()),
            name("None")
        ])
    );
    assert_eq!(
        binding(&m, "h").value,
        Expr::Conditional {
            cond: Box::new(name("fast")),
            then: Box::new(Expr::Num("10".into())),
            otherwise: Box::new(Expr::Num("60".into())),
        }
    );
    assert_eq!(binding(&m, "i").value, name("x"));
    assert_eq!(
        binding(&m, "j").value,
        Expr::Array(vec![Expr::Num("0u8".into())])
    );
    assert!(matches!(&binding(&m, "k").value, Expr::Unary { op, .. } if op == "*"));
    let (clone, _) = call(&m, "clone");
    let l = m
        .calls
        .iter()
        .find(|c| c.callee == Expr::Call(clone))
        .unwrap();
    assert_eq!(l.args[0].value, Expr::Num("1".into()));
}

#[test]
fn syntax_errors_still_lower() {
    let m = m(r#"
fn f() {
    let x = client.get(url).send(;
    other();
}
fn g() { fetch().await }
"#);
    assert!(m.has_syntax_errors);
    assert!(!calls(&m, "other").is_empty());
    assert!(!calls(&m, "fetch").is_empty());
    assert!(m.functions.iter().any(|f| f.name == "g"));
}

fn nested(open: &str, mid: &str, close: &str, n: usize) -> String {
    let mut s = String::from("fn main() { let x = ");
    for _ in 0..n {
        s.push_str(open);
    }
    s.push_str(mid);
    for _ in 0..n {
        s.push_str(close);
    }
    s.push_str("; }\n");
    s
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let shapes = [
        ("(", "1", ")"),
        ("f(", "1", ")"),
        ("{ ", "1", " }"),
        ("|| ", "1", ""),
        ("if a { ", "1", " } else { 2 }"),
        ("match a { Err(e) => ", "1", ", _ => 2 }"),
        ("S { a: ", "1", " }"),
        ("", "a", " + 1"),
        ("", "a", ".b"),
        ("[", "1", "]"),
        ("async { ", "1", " }"),
        ("vec![", "1", "]"),
        ("json!({\"a\": ", "1", "})"),
    ];
    for (open, mid, close) in shapes {
        let src = nested(open, mid, close, 20_000);
        let r = lower(Lang::Rust, "t.rs", &src);
        assert!(
            matches!(r, Err(LowerError::TooDeep)) || r.is_ok(),
            "{open}{mid}{close}"
        );
        // Nested expressions (not macro bodies, which are capped) are too deep.
        if !open.contains('!') {
            assert_eq!(r.err(), Some(LowerError::TooDeep), "{open}{mid}{close}");
        }
    }
    // Deep patterns, use trees, attributes.
    let deep_pat = format!(
        "fn f() {{ match x {{ {}e{} => 1, _ => 2 }} }}",
        "Ok(".repeat(20_000),
        ")".repeat(20_000)
    );
    assert!(lower(Lang::Rust, "t.rs", &deep_pat).is_ok());
    let alts = format!(
        "fn f() {{ match x {{ {}Err(e) => 1, _ => 2 }} }}",
        "A | ".repeat(20_000)
    );
    assert!(lower(Lang::Rust, "t.rs", &alts).is_ok());
    let deep_use = format!("use {}x{};", "a::{".repeat(20_000), "}".repeat(20_000));
    assert_eq!(
        lower(Lang::Rust, "t.rs", &deep_use).err(),
        Some(LowerError::TooDeep)
    );
    let deep_attr = format!(
        "#[a{}]\nfn f() {{}}",
        "(b".repeat(20_000) + &")".repeat(20_000)
    );
    assert_eq!(
        lower(Lang::Rust, "t.rs", &deep_attr).err(),
        Some(LowerError::TooDeep)
    );
    let bangs = format!("fn f() {{ format!(\"{{}}\", {}x); }}", "!".repeat(20_000));
    assert_eq!(
        lower(Lang::Rust, "t.rs", &bangs).err(),
        Some(LowerError::TooDeep)
    );
    // A deep module / impl / fn nesting too.
    let mut s = String::new();
    for _ in 0..20_000 {
        s.push_str("mod m { ");
    }
    for _ in 0..20_000 {
        s.push('}');
    }
    assert_eq!(
        lower(Lang::Rust, "t.rs", &s).err(),
        Some(LowerError::TooDeep)
    );
}

#[test]
fn ordinary_nesting_and_long_chains_are_fine() {
    for (open, mid, close) in [
        ("f(", "1", ")"),
        ("{ ", "1", " }"),
        ("if a { ", "1", " } else { 2 }"),
    ] {
        assert!(lower(Lang::Rust, "t.rs", &nested(open, mid, close, 60)).is_ok());
    }
    // A builder chain with 5,000 links costs no depth.
    let mut s = String::from("fn main() { let r = Router::new()");
    for i in 0..5_000 {
        s.push_str(&format!(".route(\"/{i}\", get(h))"));
    }
    s.push_str(".layer(TimeoutLayer::new(d)); }");
    let m = m(&s);
    assert_eq!(calls(&m, "route").len(), 5_000);
    let (layer, l) = call(&m, "layer");
    assert_eq!(layer, 0);
    assert_eq!(l.receiver, Some(Expr::Call(1)));
    assert_eq!(m.call(5_000).receiver, Some(Expr::Call(5_001)));
    assert_eq!(m.call(5_001).callee, name("Router::new"));
}

#[test]
fn big_macro_bodies_are_not_reparsed() {
    let mut s = String::from("fn f() { let v = vec![");
    while s.len() < 70 * 1024 {
        s.push_str("g(1), ");
    }
    s.push_str("]; h(); }");
    let m = m(&s);
    let (_, v) = call(&m, "vec");
    assert!(v.args.is_empty());
    assert!(calls(&m, "g").is_empty());
    assert_eq!(calls(&m, "h").len(), 1);
}

#[test]
fn unknown_and_dsl_macros() {
    let src = r#"
macro_rules! retry { ($e:expr) => { loop { if let Ok(v) = $e { break v; } } }; }
fn f() {
    let r = retry!(client.get(url).send());
    let q = quote! { #name::new(#arg) };
    spanless_eq_struct!(Arm; attrs pat guard body);
    my_dsl! { GET "/path" => handler }
    let s = stream! { let x = next().await; yield x; };
    let w = with_timeout!(Duration::from_secs(1), async { fetch().await });
    match e { Err(e) if transient(&e) => 1, _ => 2 }
}
"#;
    let m = m(src);
    let (r, rc) = call(&m, "retry");
    assert!(rc.is_macro);
    let (_, send) = call(&m, "send");
    assert_eq!(send.ctx, vec![Ctx::Arg { call: r, index: 0 }]);
    // Not Rust inside: recorded as calls, no arguments, nothing invented.
    assert!(call(&m, "quote").1.args.is_empty());
    assert!(calls(&m, "new").is_empty());
    assert!(call(&m, "spanless_eq_struct").1.args.is_empty());
    assert!(call(&m, "my_dsl").1.args.is_empty());
    assert!(calls(&m, "handler").is_empty());
    // Statement bodies are lowered in place.
    assert!(call(&m, "next").1.awaited);
    let (w, _) = call(&m, "with_timeout");
    let block = call(&m, "fetch").1.func.unwrap();
    assert_eq!(m.func(block).ctx, vec![Ctx::Arg { call: w, index: 1 }]);
    // `macro_rules!` bodies are not code.
    assert_eq!(m.loops.len(), 0);
    let c = &m.tries[0].clauses[0];
    assert_eq!(
        &src[c.span.start_byte as usize..c.span.end_byte as usize],
        "Err(e)"
    );
    assert_eq!(
        call(&m, "transient").1.ctx,
        vec![Ctx::Catch {
            try_id: 0,
            clause: 0
        }]
    );
}

#[test]
fn odd_inputs_do_not_panic() {
    for src in [
        "fn f() { m!(",
        "fn f() { m!{ a, ( }",
        "fn f() { format!(\"{\", x); format!(\"}\"); format!(\"{:>width$}\", x, width = 3); }",
        "fn f() { let s = format!(\"é{}ü\", \"ß\"); vec![\"😀\", g()]; }",
        "fn f() { json!(); json!(null); json!([1, {\"a\": [f()]}]); json!({(k): v, \"x\" 1}); }",
        "fn f() { tokio::select! { } tokio::select! { x = } tokio::select! { else => } }",
        "fn f() { match x { Ok(v) if let Some(y) = v => y, Err(Foo::Bar(e)) => e, } }",
        "impl { fn x() {} } impl for {} trait {} struct; use ;",
        "#[tool(description = )] fn f() {} #[] fn g() {} #[a::b(c = d::e, f(g(h = 1)))] fn h() {}",
        "fn f() { let Ok(x) = y else { }; if let Err(_) = z {} else {} }",
        "fn f() { x = ; self.y = ; a.b.c = d; *p = 1; }",
        "fn f() { |a, (b, c): (u8, u8), _| a; async || {}; move || 1; }",
        "fn f() { 'a: loop { break 'a 5; } while let Some(x) = it.next() {} for _ in 0..n {} }",
        "static X: u8; const Y: u8 = ; fn f() { let (a, b); }",
        "fn f() { r#\"unterminated }",
    ] {
        let m = lower(Lang::Rust, "t.rs", src);
        assert!(m.is_ok(), "{src}: {m:?}");
    }
    let m = m("fn f() { format!(\"{:>width$} {}\", x, y, width = 3); }");
    let (_, f) = call(&m, "format");
    assert_eq!(f.kwarg("width"), Some(&Expr::Num("3".into())));
}

#[test]
#[ignore]
/// Lowering vs parsing time over a directory of Rust files:
/// `BENCH_DIR=~/.cargo/registry/src cargo test --release --lib bench_lowering -- --ignored --nocapture`
fn bench_lowering() {
    use std::time::{Duration, Instant};
    let Ok(root) = std::env::var("BENCH_DIR") else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p)
            }
        }
    }
    files.sort();
    let (mut tp, mut tl, mut bytes, mut errs) = (Duration::ZERO, Duration::ZERO, 0usize, 0);
    let mut worst: Vec<(f64, String, Duration, Duration)> = Vec::new();
    for f in &files {
        let Ok(src) = std::fs::read_to_string(f) else {
            continue;
        };
        bytes += src.len();
        let t0 = Instant::now();
        let tree = crate::lang::parse(Lang::Rust, "x.rs", &src).unwrap();
        let t1 = Instant::now();
        let r = super::lower(&tree, &src);
        let t2 = Instant::now();
        if r.is_err() {
            errs += 1;
            eprintln!("ERR {:?} {}", r.err(), f.display());
        }
        tp += t1 - t0;
        tl += t2 - t1;
        if src.len() > 20_000 {
            worst.push((
                (t2 - t1).as_secs_f64() / (t1 - t0).as_secs_f64(),
                f.display().to_string(),
                t1 - t0,
                t2 - t1,
            ));
        }
    }
    worst.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for w in worst.iter().take(8) {
        eprintln!("{:.2} {} parse={:?} lower={:?}", w.0, w.1, w.2, w.3);
    }
    eprintln!(
        "files={} bytes={} parse={:?} lower={:?} ratio={:.3} errs={errs}",
        files.len(),
        bytes,
        tp,
        tl,
        tl.as_secs_f64() / tp.as_secs_f64()
    );
}

#[test]
#[ignore]
fn dump_file() {
    let Ok(p) = std::env::var("DUMP") else { return };
    let src = std::fs::read_to_string(p).unwrap();
    let m = m(&src);
    for (i, f) in m.functions.iter().enumerate() {
        let decos: Vec<String> = f
            .decorators
            .iter()
            .map(|d| match &d.expr {
                Expr::Call(c) => format!(
                    "{}({:?})",
                    m.call(*c).callee,
                    m.call(*c)
                        .args
                        .iter()
                        .map(|a| a.name.clone())
                        .collect::<Vec<_>>()
                ),
                e => e.to_string(),
            })
            .collect();
        println!(
            "fn#{i} {} {:?} async={} class={:?} decos={:?} params={:?}",
            f.name,
            f.kind,
            f.is_async,
            f.class.map(|c| m.classes[c as usize].name.clone()),
            decos,
            f.params.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
    }
    for (i, c) in m.calls.iter().enumerate() {
        println!(
            "call#{i} L{} {} path={:?} recv={:?} await={} macro={} func={:?} ctx={:?} nargs={}",
            c.span.start_line,
            c.callee,
            c.path,
            c.receiver.as_ref().map(|r| r.to_string()),
            c.awaited,
            c.is_macro,
            c.func,
            c.ctx,
            c.args.len()
        );
    }
    for t in &m.tries {
        println!(
            "try {:?} L{} clauses={:?}",
            t.kind,
            t.span.start_line,
            t.clauses
                .iter()
                .map(|c| (c.binding.clone(), c.value.as_ref().map(|v| v.to_string())))
                .collect::<Vec<_>>()
        );
    }
    for b in &m.bindings {
        println!("bind {} = {} {:?}", b.name, b.value, b.scope);
    }
}
