//! Resolution: which project function a call reaches, and the keys modules
//! are imported by.

use super::*;

impl Project<'_> {
    pub(super) fn resolve_target(&self, m: u32, id: CallId) -> Option<FuncRef> {
        let module = self.module(m);
        let c = module.call(id);
        let lang = module.lang();
        match &c.callee {
            Expr::Name(n) if lang == Lang::Rust && n.contains("::") => {
                let (head, sym) = n.rsplit_once("::")?;
                if head == "Self" || !head.contains("::") && self.class_named(m, head) {
                    let class = if head == "Self" {
                        module.class_of(c.func)?.name.clone()
                    } else {
                        head.to_string()
                    };
                    return self.method_in(m, &class, sym);
                }
                let path = c.path.as_deref().unwrap_or(n);
                self.resolve_rust_path(m, path)
            }
            Expr::Name(n) => {
                if module.is_param(c.func, n) {
                    return None;
                }
                let bound = module.bindings_of(c.func, n);
                if !bound.is_empty() {
                    return bound.iter().find_map(|b| match b.value {
                        Expr::Func(f) => Some(FuncRef { module: m, func: f }),
                        _ => None,
                    });
                }
                if let Some(f) = self.local_function(m, c.func, n) {
                    return Some(f);
                }
                let imp = module.import(n)?;
                if lang == Lang::Rust {
                    // `use api_client::fetch_issue; fetch_issue(..)`.
                    return self.resolve_rust_path(m, &imp.path);
                }
                self.resolve_import(m, &imp.path)
            }
            Expr::Attr(obj, meth) => match obj.as_ref() {
                Expr::Name(s) if matches!(s.as_str(), "self" | "this" | "cls") => {
                    let class = module.class_of(c.func)?.name.clone();
                    self.method_in(m, &class, meth)
                }
                _ => {
                    if let Some((cm, class)) =
                        self.instance_class(m, c.func, obj, c.span.start_byte)
                    {
                        return self.method_in(cm, &class, meth);
                    }
                    let path = c.path.as_deref()?;
                    if lang == Lang::Rust {
                        return None;
                    }
                    // `util.helper()` where `util` is an imported project module.
                    let root = obj.root_name()?;
                    module.import(root)?;
                    self.resolve_import(m, path)
                }
            },
            _ => None,
        }
    }

    /// The project class `obj` is an instance of, when it is bound to a
    /// constructor call in this module (`api = Api(..)`, `this.crm = new
    /// Crm()`): the module that defines the class, and its name. Done on the
    /// facts directly: it runs while call targets are still being resolved.
    pub(super) fn instance_class(
        &self,
        m: u32,
        func: Option<FuncId>,
        obj: &Expr,
        pos: u32,
    ) -> Option<(u32, String)> {
        let module = self.module(m);
        let values: Vec<&Expr> = match obj {
            Expr::Name(n) if !module.is_param(func, n) => module
                .bindings_at(func, n, pos)
                .into_iter()
                .map(|b| &b.value)
                .collect(),
            Expr::Attr(o, field) if matches!(o.as_ref(), Expr::Name(s) if s == "self" || s == "this") =>
            {
                let class = module.class_of(func)?;
                module
                    .class_bindings(&class.name, field)
                    .into_iter()
                    .map(|b| &b.value)
                    .collect()
            }
            _ => return None,
        };
        let mut found: Option<(u32, String)> = None;
        for v in values {
            let Expr::Call(k) = v else { return None };
            let Expr::Name(cls) = &module.call(*k).callee else {
                return None;
            };
            let at = self.class_at(m, cls)?;
            match &found {
                Some(f) if *f != at => return None,
                _ => found = Some(at),
            }
        }
        found
    }

    /// The project class `name` stands for in module `m` (defined there or
    /// imported): the module that defines it, and its name there.
    pub(super) fn class_at(&self, m: u32, name: &str) -> Option<(u32, String)> {
        if self.class_named(m, name) {
            return Some((m, name.to_string()));
        }
        let module = self.module(m);
        let imp = module.import(name)?;
        let (module_part, sym) = imp.path.rsplit_once('.')?;
        let keys = self.import_keys_of(module.lang(), &module.path, module_part)?;
        let om = keys
            .iter()
            .filter_map(|k| self.module_keys.get(k))
            .flatten()
            .copied()
            .find(|&om| self.class_named(om, sym))?;
        Some((om, sym.to_string()))
    }

    pub(super) fn class_named(&self, m: u32, name: &str) -> bool {
        self.module(m).classes.iter().any(|c| c.name == name)
    }

    /// A function visible by name from `func` in module `m`: nested in an
    /// enclosing function, or at module level.
    pub(super) fn local_function(
        &self,
        m: u32,
        func: Option<FuncId>,
        name: &str,
    ) -> Option<FuncRef> {
        let module = self.module(m);
        let scopes: Vec<Option<FuncId>> = module
            .func_chain(func)
            .map(Some)
            .chain(std::iter::once(None))
            .collect();
        for scope in scopes {
            if let Some(i) = module.functions.iter().position(|f| {
                f.name == name
                    && f.parent == scope
                    && f.class.is_none()
                    && f.kind != FuncKind::Lambda
            }) {
                return Some(FuncRef {
                    module: m,
                    func: i as FuncId,
                });
            }
        }
        None
    }

    pub(super) fn method_in(&self, m: u32, class: &str, name: &str) -> Option<FuncRef> {
        let module = self.module(m);
        module
            .functions
            .iter()
            .position(|f| {
                f.name == name
                    && f.class
                        .is_some_and(|c| module.classes[c as usize].name == class)
            })
            .map(|i| FuncRef {
                module: m,
                func: i as FuncId,
            })
    }

    /// A module-level function named `sym` in module `m` (a `def`/`fn`, or a
    /// name bound to a lambda).
    pub(super) fn top_level(&self, m: u32, sym: &str) -> Option<FuncRef> {
        let module = self.module(m);
        if let Some(i) = module
            .functions
            .iter()
            .position(|f| f.name == sym && f.parent.is_none() && f.class.is_none())
        {
            return Some(FuncRef {
                module: m,
                func: i as FuncId,
            });
        }
        module
            .bindings
            .iter()
            .filter(|b| b.name == sym && b.scope == BindScope::Module)
            .find_map(|b| match b.value {
                Expr::Func(f) => Some(FuncRef { module: m, func: f }),
                _ => None,
            })
    }

    /// Resolves an import path (`.util.helper`, `pkg.util.helper`,
    /// `./util.js.helper`) to a project function.
    pub(super) fn resolve_import(&self, from: u32, path: &str) -> Option<FuncRef> {
        self.resolve_import_hops(from, path, 4)
    }

    /// [`Project::resolve_import`], following re-exports (`export { f }
    /// from "./impl.js"` in an index, `from .impl import f` in an
    /// `__init__.py`) up to `hops` times.
    fn resolve_import_hops(&self, from: u32, path: &str, hops: u8) -> Option<FuncRef> {
        let lang = self.module(from).lang();
        let (module_part, sym) = path.rsplit_once('.')?;
        let from_path = &self.module(from).path;
        let keys = self.import_keys_of(lang, from_path, module_part)?;
        for key in &keys {
            if let Some(ms) = self.module_keys.get(key) {
                for &m in ms {
                    if m != from || lang == Lang::Python {
                        if let Some(f) = self.top_level(m, sym) {
                            return Some(f);
                        }
                    }
                }
            }
        }
        if hops == 0 {
            return None;
        }
        for key in &keys {
            for &m in self.module_keys.get(key).into_iter().flatten() {
                if m == from {
                    continue;
                }
                if let Some(imp) = self.module(m).import(sym) {
                    let next = imp.path.clone();
                    if let Some(f) = self.resolve_import_hops(m, &next, hops - 1) {
                        return Some(f);
                    }
                }
            }
        }
        None
    }

    /// The last module-level binding named by an import path, in another
    /// project module.
    pub(super) fn imported_binding(&self, from: u32, path: &str) -> Option<(u32, usize)> {
        let lang = self.module(from).lang();
        let from_path = &self.module(from).path;
        let (keys, sym) = if lang == Lang::Rust {
            // `use crate::state::CLIENT;`: a static of another module.
            let (head, sym) = path.rsplit_once("::")?;
            (self.rust_module_keys(from, head), sym)
        } else {
            let (module_part, sym) = path.rsplit_once('.')?;
            (self.import_keys_of(lang, from_path, module_part)?, sym)
        };
        keys.iter()
            .filter_map(|k| self.module_keys.get(k))
            .flatten()
            .filter(|&&m| m != from)
            .find_map(|&m| {
                self.module(m)
                    .bindings
                    .iter()
                    .rposition(|b| b.name == sym && b.scope == BindScope::Module)
                    .map(|b| (m, b))
            })
    }

    /// The module keys an import may name: [`import_keys`], and for a
    /// bare specifier that names a workspace package (`@corp/shared`,
    /// `@corp/shared/util.js`), that package's entry modules.
    pub(super) fn import_keys_of(
        &self,
        lang: Lang,
        from: &str,
        module_part: &str,
    ) -> Option<Vec<String>> {
        let mut keys = import_keys(lang, from, module_part)?;
        if matches!(lang, Lang::TypeScript | Lang::JavaScript) && !module_part.starts_with('.') {
            if let Some((name, dir)) = self
                .packages_by_name
                .iter()
                .filter(|(n, _)| {
                    module_part
                        .strip_prefix(n.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                })
                .max_by_key(|(n, _)| n.len())
            {
                let rest = strip_js_ext(&module_part[name.len()..]);
                let base = if dir == "." {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                if rest.is_empty() {
                    for entry in ["src/index", "index", "lib/index", "src/main"] {
                        keys.push(format!("ts:{base}{entry}"));
                    }
                } else {
                    let rest = rest.trim_start_matches('/');
                    keys.push(format!("ts:{base}src/{rest}"));
                    keys.push(format!("ts:{base}{rest}"));
                }
            }
        }
        Some(keys)
    }

    /// The module keys a Rust module path (`crate::state`, `super::db`,
    /// `shared_lib::http`) written in module `from` may name, in the order
    /// they are tried: a crate of the workspace first, then the module
    /// tree of `from`'s own crate.
    pub(super) fn rust_module_keys(&self, from: u32, head: &str) -> Vec<String> {
        let (crate_root, own) = rust_module_path(&self.module(from).path);
        let mut keys = Vec::new();
        let first = head.split("::").next().unwrap_or(head);
        if let Some(dir) = self.packages_by_name.get(first) {
            let rest = &head[first.len()..];
            let root = if dir == "." {
                "src".to_string()
            } else {
                format!("{dir}/src")
            };
            keys.push(format!("rs:{root}#crate{rest}"));
        }
        let cands = if let Some(rest) = head.strip_prefix("crate") {
            vec![format!("crate{rest}")]
        } else if head == "self" || head.starts_with("self::") {
            vec![format!("{own}{}", &head[4..])]
        } else if head == "super" || head.starts_with("super::") {
            let parent = own.rsplit_once("::").map(|(p, _)| p).unwrap_or("crate");
            vec![format!("{parent}{}", &head[5..])]
        } else {
            vec![format!("{own}::{head}"), format!("crate::{head}")]
        };
        keys.extend(cands.into_iter().map(|c| format!("rs:{crate_root}#{c}")));
        keys
    }

    /// The project function a Rust path (`crate::http::get`,
    /// `shared_lib::fetch`) written in module `from` names.
    pub(super) fn resolve_rust_path(&self, from: u32, path: &str) -> Option<FuncRef> {
        let (head, sym) = path.rsplit_once("::")?;
        self.rust_module_keys(from, head)
            .iter()
            .filter_map(|k| self.module_keys.get(k))
            .flatten()
            .find_map(|&m| self.top_level(m, sym))
    }
}

// ---------------------------------------------------------------- module keys

/// Keys a module is imported by. Python: every dotted suffix of its path
/// (`src/pkg/util.py` → `py:src.pkg.util`, `py:pkg.util`, `py:util`) plus its
/// file path; TS: its path without extension; Rust: `rs:<crate root>#crate::a::b`.
pub(super) fn module_keys(path: &str, lang: Lang) -> Vec<String> {
    match lang {
        Lang::Python => {
            let stem = path.strip_suffix(".py").unwrap_or(path);
            let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
            let stem = stem.trim_start_matches("./");
            let parts: Vec<&str> = stem.split('/').filter(|s| !s.is_empty()).collect();
            let mut keys: Vec<String> = (0..parts.len())
                .map(|i| format!("py:{}", parts[i..].join(".")))
                .collect();
            keys.push(format!("pyfile:{}", parts.join("/")));
            keys
        }
        Lang::TypeScript | Lang::JavaScript => {
            let p = normalize(path);
            let stem = strip_js_ext(&p);
            let mut keys = vec![format!("ts:{stem}")];
            if let Some(dir) = stem.strip_suffix("/index") {
                keys.push(format!("ts:{dir}"));
            }
            keys
        }
        Lang::Rust => {
            let (root, module) = rust_module_path(path);
            vec![format!("rs:{root}#{module}")]
        }
    }
}

/// The module keys an import of `module_part` written in file `from` may
/// name (`None` for Rust, whose paths resolve by the module tree instead).
pub(super) fn import_keys(lang: Lang, from: &str, module_part: &str) -> Option<Vec<String>> {
    match lang {
        Lang::Python => Some(python_import_keys(from, module_part)),
        Lang::TypeScript | Lang::JavaScript => Some(ts_import_keys(from, module_part)),
        Lang::Rust => None,
    }
}

pub(super) fn python_import_keys(from: &str, module_part: &str) -> Vec<String> {
    if module_part.starts_with('.') {
        let dots = module_part.chars().take_while(|c| *c == '.').count();
        let rest = &module_part[dots..];
        let mut dir: Vec<&str> = normalize_ref(from).split('/').collect();
        dir.pop();
        for _ in 1..dots {
            dir.pop();
        }
        let mut parts: Vec<String> = dir.iter().map(|s| s.to_string()).collect();
        parts.extend(
            rest.split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        vec![format!("pyfile:{}", parts.join("/"))]
    } else {
        vec![format!("py:{module_part}")]
    }
}

pub(super) fn ts_import_keys(from: &str, spec: &str) -> Vec<String> {
    if !spec.starts_with('.') {
        return Vec::new();
    }
    let mut dir: Vec<&str> = normalize_ref(from).split('/').collect();
    dir.pop();
    let joined = if dir.is_empty() {
        spec.to_string()
    } else {
        format!("{}/{spec}", dir.join("/"))
    };
    vec![format!("ts:{}", strip_js_ext(&normalize(&joined)))]
}

pub(super) fn strip_js_ext(p: &str) -> String {
    for ext in [
        ".d.ts", ".tsx", ".ts", ".mts", ".cts", ".jsx", ".js", ".mjs", ".cjs",
    ] {
        if let Some(s) = p.strip_suffix(ext) {
            return s.to_string();
        }
    }
    p.to_string()
}

pub(super) fn normalize_ref(p: &str) -> &str {
    p.trim_start_matches("./")
}

/// Resolves `.` and `..` segments of a `/`-separated path.
pub(super) fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(s) if *s != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if p.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// (crate root directory, module path) of a Rust file: `x/src/a/b.rs` →
/// (`x/src`, `crate::a::b`); `main.rs`, `lib.rs` and `mod.rs` name their
/// directory's module.
pub(super) fn rust_module_path(path: &str) -> (String, String) {
    let p = normalize(path);
    let (root, rel) = match p.rfind("src/") {
        Some(i) if i == 0 || p.as_bytes()[i - 1] == b'/' => {
            (p[..i + 3].to_string(), p[i + 4..].to_string())
        }
        _ => match p.rsplit_once('/') {
            Some((d, f)) => (d.to_string(), f.to_string()),
            None => (String::new(), p.clone()),
        },
    };
    let rel = rel.strip_suffix(".rs").unwrap_or(&rel);
    let mut segs: Vec<&str> = rel.split('/').collect();
    if matches!(segs.last(), Some(&"mod") | Some(&"main") | Some(&"lib")) {
        segs.pop();
    }
    let mut module = String::from("crate");
    for s in segs {
        module.push_str("::");
        module.push_str(s);
    }
    (root, module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_module_keys_cover_every_suffix() {
        let k = module_keys("src/weather/http.py", Lang::Python);
        assert!(k.contains(&"py:weather.http".to_string()));
        assert!(k.contains(&"py:http".to_string()));
        assert!(k.contains(&"pyfile:src/weather/http".to_string()));
        assert_eq!(
            python_import_keys("src/weather/server.py", ".http"),
            vec!["pyfile:src/weather/http".to_string()]
        );
        assert_eq!(
            python_import_keys("src/weather/tools/a.py", "..http"),
            vec!["pyfile:src/weather/http".to_string()]
        );
    }

    #[test]
    fn ts_specifiers_resolve_relative_to_the_importer() {
        assert_eq!(
            ts_import_keys("src/tools/a.ts", "../util.js"),
            vec!["ts:src/util".to_string()]
        );
        assert!(module_keys("src/util.ts", Lang::TypeScript).contains(&"ts:src/util".to_string()));
        assert!(
            module_keys("src/lib/index.ts", Lang::TypeScript).contains(&"ts:src/lib".to_string())
        );
    }

    #[test]
    fn rust_module_paths_follow_the_file_layout() {
        assert_eq!(
            rust_module_path("x/src/main.rs"),
            ("x/src".into(), "crate".into())
        );
        assert_eq!(
            rust_module_path("x/src/http/mod.rs"),
            ("x/src".into(), "crate::http".into())
        );
        assert_eq!(
            rust_module_path("src/a/b.rs"),
            ("src".into(), "crate::a::b".into())
        );
    }
}
