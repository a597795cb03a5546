//! Entry points: the MCP handlers the knowledge packs' idioms register.

use super::*;

impl Project<'_> {
    /// Tool handlers whose execution can reach code in `func` of module `m`,
    /// through enclosing functions and known callers.
    pub fn tools_reaching(&self, m: u32, func: Option<FuncId>) -> Vec<FuncRef> {
        let Some(start) = func else { return Vec::new() };
        let mut seen: HashSet<FuncRef> = HashSet::new();
        let mut queue: VecDeque<FuncRef> = VecDeque::new();
        let mut found: BTreeSet<FuncRef> = BTreeSet::new();
        queue.push_back(FuncRef {
            module: m,
            func: start,
        });
        while let Some(f) = queue.pop_front() {
            if !seen.insert(f) || seen.len() > REACH_LIMIT {
                continue;
            }
            if self.tool(f).is_some() {
                found.insert(f);
            }
            if let Some(p) = self.module(f.module).func(f.func).parent {
                queue.push_back(FuncRef {
                    module: f.module,
                    func: p,
                });
            }
            for s in self.callers(f) {
                if let Some(g) = self.module(s.module).call(s.call).func {
                    queue.push_back(FuncRef {
                        module: s.module,
                        func: g,
                    });
                }
            }
        }
        found.into_iter().collect()
    }

    pub(super) fn find_tools(&self, m: u32) -> Vec<ToolEntry> {
        let module = self.module(m);
        let lk = self.lk(m);
        let mut out: Vec<ToolEntry> = Vec::new();
        for entry in &lk.entries {
            match entry.kind.as_str() {
                "decorator" | "attribute" => {
                    for (fi, f) in module.functions.iter().enumerate() {
                        for d in &f.decorators {
                            let (meth, call) = match &d.expr {
                                Expr::Attr(_, meth) if entry.kind == "decorator" => {
                                    (meth.as_str(), None)
                                }
                                Expr::Call(id) => {
                                    let c = module.call(*id);
                                    let n = match (entry.kind.as_str(), &c.callee) {
                                        ("decorator", Expr::Attr(_, meth)) => meth.as_str(),
                                        ("attribute", Expr::Name(n)) => last_path_segment(n),
                                        _ => continue,
                                    };
                                    (n, Some(c))
                                }
                                Expr::Name(n) if entry.kind == "attribute" => {
                                    (last_path_segment(n), None)
                                }
                                _ => continue,
                            };
                            if meth != entry.method {
                                continue;
                            }
                            if entry.kind == "attribute" && f.class.is_none() {
                                continue;
                            }
                            let name = call
                                .and_then(|c| {
                                    entry
                                        .name_key
                                        .as_deref()
                                        .and_then(|k| c.kwarg(k))
                                        .or_else(|| c.positional(0))
                                        .or_else(|| c.kwarg("name"))
                                })
                                .and_then(str_value)
                                .or_else(|| (!entry.dispatcher).then(|| f.name.clone()));
                            out.push(ToolEntry {
                                func: fi as FuncId,
                                name,
                                span: head_span(f.span),
                                dispatcher: entry.dispatcher,
                            });
                        }
                    }
                }
                "trait_method" => {
                    for (fi, f) in module.functions.iter().enumerate() {
                        let Some(ci) = f.class else { continue };
                        let class = &module.classes[ci as usize];
                        let trait_ok = match (&entry.r#trait, &class.trait_name) {
                            (Some(t), Some(have)) => last_path_segment(have) == t,
                            (None, _) => true,
                            _ => false,
                        };
                        if trait_ok && f.name == entry.method {
                            out.push(ToolEntry {
                                func: fi as FuncId,
                                name: None,
                                span: head_span(f.span),
                                dispatcher: entry.dispatcher,
                            });
                        }
                    }
                }
                "register" => {
                    for (ci, c) in module.calls.iter().enumerate() {
                        if c.method.as_deref() != Some(entry.method.as_str()) {
                            continue;
                        }
                        if let Some(first) = &entry.first_arg {
                            let ok = c
                                .positional(0)
                                .and_then(|a| a.dotted())
                                .is_some_and(|d| last_path_segment(&d) == first);
                            if !ok {
                                continue;
                            }
                        }
                        if entry.name_first && c.positional(0).and_then(str_value).is_none() {
                            continue;
                        }
                        let handler = if let Some(key) = &entry.handler_key {
                            c.positional(0).and_then(|a| match a {
                                Expr::Object(o) => o.get(key).cloned(),
                                _ => None,
                            })
                        } else {
                            let n = c.args.len() as i32;
                            entry
                                .handler_arg
                                .map(|i| if i < 0 { n + i } else { i })
                                .filter(|i| *i >= 0 && *i < n)
                                .map(|i| c.args[i as usize].value.clone())
                        };
                        let Some(handler) = handler else { continue };
                        let func = match handler {
                            Expr::Func(f) => Some(FuncRef { module: m, func: f }),
                            Expr::Name(_) | Expr::Attr(..) => self
                                .trace(m, c.func, &handler, c.span.start_byte)
                                .into_iter()
                                .find_map(|o| match o {
                                    Origin::Lit(om, _, Expr::Func(f)) => Some(FuncRef { module: om, func: f }),
                                    _ => None,
                                })
                                .or_else(|| match &handler {
                                    Expr::Name(n) => self.local_function(m, c.func, n),
                                    Expr::Attr(o, meth) if matches!(o.as_ref(), Expr::Name(s) if s == "this" || s == "self") => {
                                        module.class_of(c.func).and_then(|cl| self.method_in(m, &cl.name, meth))
                                    }
                                    _ => None,
                                }),
                            _ => None,
                        };
                        let Some(func) = func.filter(|f| f.module == m) else {
                            continue;
                        };
                        let name = match &entry.name_key {
                            Some(k) => c
                                .positional(0)
                                .and_then(|a| match a {
                                    Expr::Object(o) => o.get(k).and_then(str_value),
                                    _ => None,
                                })
                                .or_else(|| c.kwarg(k).and_then(str_value)),
                            None => c.positional(0).and_then(str_value),
                        };
                        let _ = ci;
                        out.push(ToolEntry {
                            func: func.func,
                            name,
                            span: c.span,
                            dispatcher: entry.dispatcher,
                        });
                    }
                }
                _ => {}
            }
        }
        out.sort_by_key(|t| (t.span, t.func));
        out.dedup_by_key(|t| t.func);
        out
    }
}

/// Adds a call for each function handed to an offloading call
/// (`asyncio.to_thread(requests.get, url, timeout=5)` → `requests.get(url,
/// timeout=5)`), so that rules judge what actually runs.
pub(super) fn add_offloaded_calls(m: &mut Module, lk: &LangKnowledge) {
    if lk.offload.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    for (id, c) in m.calls.iter().enumerate() {
        let Some(o) = lk.offload.iter().find(|o| {
            c.path.as_deref().is_some_and(|p| any_matches(&o.callee, p))
                || o.method.is_some() && c.method == o.method
        }) else {
            continue;
        };
        // The function argument, by position among the non-keyword arguments.
        let Some(pos) = c
            .args
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.is_none())
            .nth(o.func_arg)
            .map(|(i, _)| i)
        else {
            continue;
        };
        let f = &c.args[pos].value;
        if !matches!(f, Expr::Name(_) | Expr::Attr(..)) {
            continue;
        }
        let mut call = c.clone();
        call.callee = f.clone();
        call.method = None;
        call.receiver = None;
        if let Expr::Attr(recv, meth) = f {
            call.method = Some(meth.clone());
            call.receiver = Some((**recv).clone());
        }
        call.args = c.args[pos + 1..].to_vec();
        call.ctx.push(Ctx::Arg {
            call: id as CallId,
            index: pos as u32,
        });
        call.via = Some(id as CallId);
        call.is_new = false;
        extra.push(call);
    }
    if !extra.is_empty() {
        m.calls.extend(extra);
        m.finish();
    }
}

pub(super) fn str_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Str(s) => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn last_path_segment(s: &str) -> &str {
    s.rsplit("::")
        .next()
        .unwrap_or(s)
        .rsplit('.')
        .next()
        .unwrap_or(s)
}

/// The first line of a span (a definition's head, for pointing at `def`).
pub fn head_span(s: Span) -> Span {
    Span {
        end_byte: s.start_byte,
        end_line: s.start_line,
        end_col: s.start_col,
        ..s
    }
}
