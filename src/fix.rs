//! `--fix` and `--diff`: apply the mechanical fixes that rules attach to
//! their findings ([`crate::finding::Fix`]).
//!
//! As ruff does: scan, apply every fix that does not overlap one already
//! taken in the same file, scan the fixed text again, and repeat until a
//! pass applies nothing (at most [`MAX_PASSES`]), so that running `--fix`
//! a second time changes nothing. The passes run on the texts in memory
//! (standing in for the files on disk); nothing is written until the last
//! pass, and only by [`write`]. A fix never makes a file parse worse: a
//! pass whose edits would add a syntax error keeps only the fixes that do
//! not, and no fix touches code the parser could not read.

use crate::facts::Lang;
use crate::finding::{Edit, Finding, Fix};
use crate::{scan_sources, Config, Error, InMemoryFile, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Passes of scan-and-apply at most: each pass's fixes are independent
/// edits, and a fix skipped for overlapping another is taken in the next.
pub const MAX_PASSES: usize = 10;

/// One fix applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub rule_id: &'static str,
    /// Where the finding starts in the fixed text (1-based line and column,
    /// the column in characters).
    pub line: u32,
    pub column: u32,
    pub description: String,
}

/// A file the fixes change.
#[derive(Clone, Debug)]
pub struct FileFix {
    /// The display path (as in the report).
    pub path: String,
    pub original: String,
    pub fixed: String,
    /// In the order applied.
    pub applied: Vec<Applied>,
}

/// What `--fix` / `--diff` did.
#[derive(Debug)]
pub struct Outcome {
    /// The files changed, by display path.
    pub files: Vec<FileFix>,
    /// The scan of the fixed texts: the findings that remain.
    pub report: Report,
}

impl Outcome {
    pub fn fixed_count(&self) -> usize {
        self.files.iter().map(|f| f.applied.len()).sum()
    }
}

/// Scans `paths` (with `given` standing in for files, as
/// [`scan_sources`]), applies the fixes of the findings it reports, and
/// scans again until nothing more applies. Writes nothing.
pub fn run(config: &Config, paths: &[PathBuf], given: &[InMemoryFile]) -> Result<Outcome, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    // Display path → (the text scanned first, the text now, fixes applied).
    let mut files: BTreeMap<String, FileFix> = BTreeMap::new();
    let mut report = scan_sources(config, paths, given)?;
    // Findings already fixed once, by file, rule and where they start now: a
    // fix that did not clear its finding is not made twice.
    let mut done: BTreeMap<String, Vec<(&'static str, usize)>> = BTreeMap::new();
    for _ in 0..MAX_PASSES {
        let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &report.findings {
            let again = done
                .get(&f.location.path)
                .is_some_and(|d| d.contains(&(f.rule_id, f.location.span.start_byte as usize)));
            if !again && f.fix.as_ref().is_some_and(|x| !x.edits.is_empty()) {
                by_file.entry(&f.location.path).or_default().push(f);
            }
        }
        let mut changed = false;
        for (path, findings) in by_file {
            let Some(lang) = crate::discover::language_of(Path::new(path)) else {
                continue;
            };
            let current = match files.get(path) {
                Some(f) => f.fixed.clone(),
                None => match report.sources.get(path) {
                    Some(t) => t.to_string(),
                    None => continue,
                },
            };
            let fixes: Vec<&Fix> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
            let (text, taken) = apply_parsing(lang, path, &current, &fixes);
            if taken.is_empty() || text == current {
                continue;
            }
            changed = true;
            let entry = files.entry(path.to_string()).or_insert_with(|| FileFix {
                path: path.to_string(),
                original: current.clone(),
                fixed: String::new(),
                applied: Vec::new(),
            });
            let taken_edits: Vec<&Edit> =
                taken.iter().flat_map(|i| fixes[*i].edits.iter()).collect();
            let seen = done.entry(path.to_string()).or_default();
            for d in seen.iter_mut() {
                d.1 = shifted(d.1, &taken_edits);
            }
            for i in &taken {
                let f = findings[*i];
                let at = shifted(f.location.span.start_byte as usize, &taken_edits);
                seen.push((f.rule_id, at));
                let (line, column) = line_col(&text, at);
                entry.applied.push(Applied {
                    rule_id: f.rule_id,
                    line,
                    column,
                    description: fixes[*i].description.clone(),
                });
            }
            entry.fixed = text;
        }
        if !changed {
            break;
        }
        let mut stand_ins: Vec<InMemoryFile> = given
            .iter()
            .filter(|g| !files.contains_key(&crate::discover::display_path(&g.path, &cwd)))
            .cloned()
            .collect();
        stand_ins.extend(files.values().map(|f| InMemoryFile {
            path: PathBuf::from(&f.path),
            text: f.fixed.clone(),
        }));
        report = scan_sources(config, paths, &stand_ins)?;
    }
    Ok(Outcome {
        files: files.into_values().collect(),
        report,
    })
}

/// Where byte `pos` of the text before `edits` is after them.
fn shifted(pos: usize, edits: &[&Edit]) -> usize {
    let mut delta: isize = 0;
    for e in edits {
        let (s, t) = (e.span.start_byte as usize, e.span.end_byte as usize);
        // An edit that begins at `pos` (a callee replaced) leaves it there.
        if t <= pos && s < pos {
            delta += e.replacement.len() as isize - (t - s) as isize;
        }
    }
    (pos as isize + delta).max(0) as usize
}

/// 1-based line and character column of byte `pos` of `text`.
fn line_col(text: &str, pos: usize) -> (u32, u32) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() as u32 + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() as u32 + 1)
}

/// Does `text` parse without syntax errors?
pub fn parses(lang: Lang, path: &str, text: &str) -> bool {
    syntax_errors(lang, path, text).is_some_and(|e| e.is_empty())
}

/// Where `text` has syntax errors (ERROR and MISSING nodes), as byte
/// ranges; `None` when the parser gives up on it.
pub fn syntax_errors(lang: Lang, path: &str, text: &str) -> Option<Vec<(usize, usize)>> {
    let tree = crate::lang::parse(lang, path, text).ok()?;
    let mut out = Vec::new();
    if !tree.root_node().has_error() {
        return Some(out);
    }
    let mut c = tree.walk();
    'walk: loop {
        let n = c.node();
        if n.is_error() || n.is_missing() {
            out.push((n.start_byte(), n.end_byte()));
        } else if n.has_error() && c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                break 'walk;
            }
        }
    }
    Some(out)
}

/// [`apply`], keeping the result only while the file parses no worse than
/// before: a file that parsed cleanly still does, one the parser could
/// not read whole (a construct tree-sitter does not know) gains no error,
/// and no fix touches the code it could not read. If the fixes together
/// break the file, they are taken one at a time, each kept only if the
/// file still parses with it.
fn apply_parsing(lang: Lang, path: &str, text: &str, fixes: &[&Fix]) -> (String, Vec<usize>) {
    let Some(before) = syntax_errors(lang, path, text) else {
        return (text.to_string(), Vec::new());
    };
    let readable: Vec<usize> = (0..fixes.len())
        .filter(|i| {
            fixes[*i].edits.iter().all(|e| {
                let (s, t) = (e.span.start_byte as usize, e.span.end_byte as usize);
                !before.iter().any(|&(a, b)| s <= b && a <= t)
            })
        })
        .collect();
    let no_worse = |t: &str| syntax_errors(lang, path, t).is_some_and(|e| e.len() <= before.len());
    let pick = |idx: &[usize]| -> Vec<&Fix> { idx.iter().map(|i| fixes[*i]).collect() };
    let (all, taken) = apply(text, &pick(&readable));
    if no_worse(&all) {
        return (all, taken.iter().map(|k| readable[*k]).collect());
    }
    let mut kept: Vec<usize> = Vec::new();
    let mut out = text.to_string();
    for k in taken {
        let i = readable[k];
        let mut trial = kept.clone();
        trial.push(i);
        let (t, took) = apply(text, &pick(&trial));
        if took.len() == trial.len() && no_worse(&t) {
            kept.push(i);
            out = t;
        }
    }
    (out, kept)
}

/// Applies `fixes` to `text`: each fix whole or not at all, in order of
/// where they start; a fix with an edit that overlaps one already taken
/// (or that does not fit the text) is skipped. Two fixes may share an
/// identical edit. In a file whose lines end in CRLF, the line breaks a
/// fix inserts do too. Returns the new text and the indices of the fixes
/// taken.
pub fn apply(text: &str, fixes: &[&Fix]) -> (String, Vec<usize>) {
    let crlf = text.find('\n').is_some_and(|i| text[..i].ends_with('\r'));
    let mut order: Vec<usize> = (0..fixes.len()).collect();
    order.sort_by_key(|&i| {
        let f = fixes[i];
        (
            f.edits.iter().map(|e| e.span.start_byte).min().unwrap_or(0),
            f.edits.iter().map(|e| e.span.end_byte).max().unwrap_or(0),
        )
    });
    let mut edits: Vec<Edit> = Vec::new();
    let mut taken: Vec<usize> = Vec::new();
    for i in order {
        let fix = fixes[i];
        let fits = |e: &Edit| {
            let (s, t) = (e.span.start_byte as usize, e.span.end_byte as usize);
            s <= t && t <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(t)
        };
        if fix.edits.is_empty() || !fix.edits.iter().all(fits) {
            continue;
        }
        let new: Vec<&Edit> = fix
            .edits
            .iter()
            .filter(|e| !edits.iter().any(|t| same(t, e)))
            .collect();
        let clash = new.iter().enumerate().any(|(k, e)| {
            edits.iter().any(|t| overlaps(t, e)) || new[..k].iter().any(|o| overlaps(o, e))
        });
        if clash {
            continue;
        }
        edits.extend(new.into_iter().cloned());
        taken.push(i);
    }
    edits.sort_by_key(|e| (e.span.start_byte, e.span.end_byte));
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0usize;
    for e in &edits {
        let (s, t) = (e.span.start_byte as usize, e.span.end_byte as usize);
        out.push_str(&text[pos..s]);
        if crlf {
            out.push_str(&to_crlf(&e.replacement));
        } else {
            out.push_str(&e.replacement);
        }
        pos = t;
    }
    out.push_str(&text[pos..]);
    taken.sort_unstable();
    (out, taken)
}

fn same(a: &Edit, b: &Edit) -> bool {
    a.span.start_byte == b.span.start_byte
        && a.span.end_byte == b.span.end_byte
        && a.replacement == b.replacement
}

/// Do two edits touch the same text, or insert at the same place (where
/// their order would be a guess)? Edits that only meet at a boundary do not.
fn overlaps(a: &Edit, b: &Edit) -> bool {
    let (a0, a1) = (a.span.start_byte, a.span.end_byte);
    let (b0, b1) = (b.span.start_byte, b.span.end_byte);
    if a0 == a1 && b0 == b1 {
        return a0 == b0;
    }
    if a0 == a1 {
        return b0 < a0 && a0 < b1;
    }
    if b0 == b1 {
        return a0 < b0 && b0 < a1;
    }
    a0 < b1 && b0 < a1
}

/// `\n` → `\r\n`, leaving `\r\n` as it is.
fn to_crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev = '\0';
    for c in s.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Why a fixed file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}: not written: it is a link to {1}, outside the paths scanned")]
    OutsideRoot(String, String),
    #[error("{0}: not written: it changed on disk since it was read")]
    Changed(String),
    #[error("{0}: not written: {1}")]
    Io(String, std::io::Error),
}

impl WriteError {
    /// The display path of the file not written.
    pub fn path(&self) -> &str {
        match self {
            WriteError::OutsideRoot(p, _) | WriteError::Changed(p) | WriteError::Io(p, _) => p,
        }
    }
}

/// What `--fix` (`verb` "fixed") or `--diff` ("would fix") says it did, for
/// standard error: each file, then each fix in it at its line and column in
/// the fixed text, then the count. Empty when there is nothing to say.
pub fn summary(files: &[&FileFix], verb: &str) -> String {
    let n: usize = files.iter().map(|f| f.applied.len()).sum();
    if n == 0 {
        return String::new();
    }
    let mut out = String::new();
    for f in files {
        out.push_str(&format!("{}:\n", f.path));
        for a in &f.applied {
            out.push_str(&format!(
                "  {}:{} {} {}\n",
                a.line, a.column, a.rule_id, a.description
            ));
        }
    }
    out.push_str(&format!(
        "mcp-audit: {verb} {n} finding{} in {} file{}\n",
        if n == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    ));
    out
}

/// Writes the fixed files. Each is written whole to a temporary file beside
/// its target, then renamed over it, so a reader never sees half a file; a
/// link is followed only to a target inside the paths scanned (`roots`);
/// a file that changed since it was read is left alone. Returns the files
/// not written, and why.
pub fn write(files: &[FileFix], roots: &[PathBuf]) -> Vec<WriteError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(cwd.join(r)).ok())
        .collect();
    let mut errors = Vec::new();
    // A file reached twice (through a link and by its own path) is written
    // once: both scans fixed the same text the same way.
    let mut written: BTreeMap<PathBuf, &str> = BTreeMap::new();
    for f in files {
        match write_one(f, &roots, &cwd, &written) {
            Ok(target) => {
                written.insert(target, &f.fixed);
            }
            Err(e) => errors.push(e),
        }
    }
    errors
}

fn write_one(
    f: &FileFix,
    roots: &[PathBuf],
    cwd: &Path,
    written: &BTreeMap<PathBuf, &str>,
) -> Result<PathBuf, WriteError> {
    let io = |e: std::io::Error| WriteError::Io(f.path.clone(), e);
    let named = cwd.join(&f.path);
    let target = std::fs::canonicalize(&named).map_err(io)?;
    if let Some(done) = written.get(&target) {
        return if *done == f.fixed {
            Ok(target)
        } else {
            Err(WriteError::Changed(f.path.clone()))
        };
    }
    if !roots.iter().any(|r| target.starts_with(r)) {
        return Err(WriteError::OutsideRoot(
            f.path.clone(),
            target.display().to_string(),
        ));
    }
    let now = std::fs::read(&target).map_err(io)?;
    if now != f.original.as_bytes() {
        return Err(WriteError::Changed(f.path.clone()));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let perms = std::fs::metadata(&target).map_err(io)?.permissions();
    let mut n = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.mcp-audit-{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(io(e)),
        }
    };
    let result = (|| {
        use std::io::Write;
        file.write_all(f.fixed.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::set_permissions(&tmp, perms)?;
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(target)
}

/// A unified diff of every changed file (`--- a/PATH`, `+++ b/PATH`, three
/// lines of context), in path order.
pub fn unified_diff(files: &[FileFix]) -> String {
    let mut out = String::new();
    for f in files {
        let diff = similar::TextDiff::from_lines(&f.original, &f.fixed);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;

    /// An edit of bytes `s..t` of `text` (lines and columns filled in).
    fn edit(text: &str, s: usize, t: usize, rep: &str) -> Edit {
        let (l0, c0) = line_col(text, s);
        let (l1, c1) = line_col(text, t);
        Edit {
            span: Span {
                start_byte: s as u32,
                end_byte: t as u32,
                start_line: l0,
                start_col: c0 - 1,
                end_line: l1,
                end_col: c1 - 1,
            },
            replacement: rep.into(),
        }
    }

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix {
            description: "d".into(),
            edits,
        }
    }

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).unwrap()
    }

    #[test]
    fn fixes_apply_whole_in_order_and_overlapping_ones_wait() {
        let text = "get(a)\nget(b)\n";
        let one = fix(vec![edit(text, 5, 5, ", t=1")]);
        let two = fix(vec![edit(text, 12, 12, ", t=1")]);
        let (out, taken) = apply(text, &[&two, &one]);
        assert_eq!(out, "get(a, t=1)\nget(b, t=1)\n");
        assert_eq!(taken, vec![0, 1]);
        // Edits that only meet at a boundary both apply (`b` replaced, text
        // inserted right after it); an insertion inside a replaced range
        // waits for the next pass.
        let touching = fix(vec![edit(text, 11, 12, "c")]);
        let (out, taken) = apply(text, &[&two, &touching]);
        assert_eq!((out.as_str(), taken), ("get(a)\nget(c, t=1)\n", vec![0, 1]));
        let around = fix(vec![edit(text, 10, 13, "(c)")]);
        let (out, taken) = apply(text, &[&two, &around]);
        assert_eq!((out.as_str(), taken), ("get(a)\nget(c)\n", vec![1]));
        // Two different insertions at one place: the second waits.
        let other = fix(vec![edit(text, 5, 5, ", u=2")]);
        let (out, taken) = apply(text, &[&one, &other]);
        assert_eq!((out.as_str(), taken), ("get(a, t=1)\nget(b)\n", vec![0]));
        // The same edit from two findings is made once, and both are taken.
        let (out, taken) = apply(text, &[&one, &one.clone()]);
        assert_eq!((out.as_str(), taken), ("get(a, t=1)\nget(b)\n", vec![0, 1]));
        // A fix of two edits is taken whole or not at all: the one that
        // starts first wins, and the other's edit is not made at all.
        let pair = fix(vec![edit(text, 0, 3, "post"), edit(text, 5, 5, ", u=2")]);
        let (out, taken) = apply(text, &[&one, &pair]);
        assert_eq!((out.as_str(), taken), ("post(a, u=2)\nget(b)\n", vec![1]));
        let late = fix(vec![edit(text, 7, 10, "post"), edit(text, 5, 5, ", u=2")]);
        let (out, taken) = apply(text, &[&one, &late]);
        assert_eq!((out.as_str(), taken), ("get(a, t=1)\nget(b)\n", vec![0]));
        // An edit that does not fit the text is never taken.
        let far = fix(vec![edit(text, 2, 2, "x")]);
        let mut bad = far.clone();
        bad.edits[0].span.end_byte = 999;
        assert_eq!(apply(text, &[&bad]).1, Vec::<usize>::new());
    }

    #[test]
    fn applying_twice_changes_nothing_the_second_time() {
        // What a second `--fix` sees: the findings are gone, so no fixes.
        let text = "get(a)\n";
        let one = fix(vec![edit(text, 5, 5, ", t=1")]);
        let (once, _) = apply(text, &[&one]);
        let (twice, taken) = apply(&once, &[]);
        assert_eq!(
            (once.as_str(), twice.as_str()),
            ("get(a, t=1)\n", "get(a, t=1)\n")
        );
        assert!(taken.is_empty());
    }

    #[test]
    fn crlf_files_keep_their_line_ends() {
        let text = "gather(\r\n    a,\r\n)\r\n";
        let comma = at(text, "a,") + 2;
        let f = fix(vec![edit(text, comma, comma, "\n    b=True,")]);
        let (out, _) = apply(text, &[&f]);
        assert_eq!(out, "gather(\r\n    a,\r\n    b=True,\r\n)\r\n");
        // An LF file keeps LF.
        let lf = "gather(\n    a,\n)\n";
        let comma = at(lf, "a,") + 2;
        let f = fix(vec![edit(lf, comma, comma, "\n    b=True,")]);
        assert_eq!(apply(lf, &[&f]).0, "gather(\n    a,\n    b=True,\n)\n");
    }

    #[test]
    fn offsets_are_bytes_whatever_comes_before() {
        // Non-ASCII and tabs before the edit: spans are bytes, lines and
        // columns only describe them.
        let text = "s = 'é😀'\n\tget(a)\n";
        let p = at(text, "(a)") + 2;
        let f = fix(vec![edit(text, p, p, ", t=1")]);
        let (out, _) = apply(text, &[&f]);
        assert_eq!(out, "s = 'é😀'\n\tget(a, t=1)\n");
        // The line and column shown for it count characters.
        assert_eq!(line_col(&out, at(&out, "get")), (2, 2));
        assert_eq!(line_col("é😀x", "é😀".len()), (1, 3));
        // A span inside a character is refused, not split.
        let inside = fix(vec![edit(text, 6, 6, "x")]);
        assert!(apply(text, &[&inside]).1.is_empty());
    }

    #[test]
    fn a_position_moves_with_the_edits_before_it() {
        let text = "a(x)\nb(y)\n";
        let e1 = edit(text, 3, 3, ",\n z=1");
        let e2 = edit(text, 8, 8, ", w=2");
        let pos = at(text, "b(");
        let new = shifted(pos, &[&e1, &e2]);
        let (out, _) = apply(text, &[&fix(vec![e1.clone()]), &fix(vec![e2.clone()])]);
        assert_eq!(&out[new..new + 2], "b(");
        assert_eq!(line_col(&out, new), (3, 1));
    }

    #[test]
    fn a_fix_that_breaks_the_file_is_dropped() {
        let text = "f(a)\ng(b)\n";
        let good = fix(vec![edit(text, 3, 3, ", t=1")]);
        let bad = fix(vec![edit(text, 8, 8, ", (")]);
        let (out, kept) = apply_parsing(Lang::Python, "a.py", text, &[&good, &bad]);
        assert_eq!((out.as_str(), kept), ("f(a, t=1)\ng(b)\n", vec![0]));
        assert!(!parses(Lang::Python, "a.py", "f(("));
        // A file with an error elsewhere is still fixed where the parser
        // could read it, but not inside what it could not.
        let text = "f(a)\ng(b c d e)\n";
        assert_eq!(
            syntax_errors(Lang::Python, "a.py", text).map(|e| e.is_empty()),
            Some(false)
        );
        let near = fix(vec![edit(text, 12, 12, ", t=1")]);
        let (out, kept) = apply_parsing(Lang::Python, "a.py", text, &[&good, &near]);
        assert_eq!((out.as_str(), kept), ("f(a, t=1)\ng(b c d e)\n", vec![0]));
    }

    #[test]
    fn the_diff_is_unified_with_paths() {
        let f = FileFix {
            path: "src/a.py".into(),
            original: "x\nget(a)\ny\n".into(),
            fixed: "x\nget(a, t=1)\ny\n".into(),
            applied: Vec::new(),
        };
        let d = unified_diff(&[f]);
        assert!(
            d.starts_with("--- a/src/a.py\n+++ b/src/a.py\n@@ -1,3 +1,3 @@\n"),
            "{d}"
        );
        assert!(d.contains("-get(a)\n+get(a, t=1)\n"), "{d}");
    }
}
