//! Library knowledge as data: which calls reach an upstream, what bounds
//! them, which wrappers apply a deadline, and how each MCP SDK registers a
//! tool. Loaded from `rules/*.toml` (compiled in) and from the user's own
//! packs (`--knowledge FILE`), which extend the built-in ones.
//!
//! Paths are written in the language's own form: `requests.get`,
//! `axios.create`, `reqwest::Client::builder`. A trailing `*` matches any
//! suffix (`requests.api.*`).

use crate::facts::Lang;
use serde::Deserialize;
use std::path::Path;

/// The built-in packs, one per language.
pub const BUILTIN: &[(&str, &str)] = &[
    ("rules/python.toml", include_str!("../rules/python.toml")),
    (
        "rules/typescript.toml",
        include_str!("../rules/typescript.toml"),
    ),
    ("rules/rust.toml", include_str!("../rules/rust.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("cannot read knowledge pack {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid knowledge pack {path}: {message}")]
    Parse { path: String, message: String },
}

/// The language a pack describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackLanguage {
    Python,
    /// JavaScript shares TypeScript's pack: same libraries, same idioms.
    #[serde(alias = "javascript")]
    Typescript,
    Rust,
}

/// What a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    Http,
    Db,
}

/// How long a library waits by default, parsed once when the pack loads:
/// `"none"` or a duration (`"5s"`, `"1.5s"`, `"300ms"`, `"2m"`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub enum Limit {
    Unlimited,
    Secs(f64),
}

impl Limit {
    pub fn secs(self) -> Option<f64> {
        match self {
            Limit::Unlimited => None,
            Limit::Secs(s) => Some(s),
        }
    }

    /// Short enough to count as a bound ([`MAX_BOUNDED_DEFAULT_SECS`]).
    pub fn bounds(self) -> bool {
        self.secs().is_some_and(|s| s <= MAX_BOUNDED_DEFAULT_SECS)
    }
}

impl TryFrom<String> for Limit {
    type Error = String;

    fn try_from(s: String) -> Result<Limit, String> {
        match parse_default(&s) {
            Some(None) => Ok(Limit::Unlimited),
            Some(Some(secs)) => Ok(Limit::Secs(secs)),
            None => Err(format!(
                "{s:?}: expected \"none\" or a duration such as \"5s\""
            )),
        }
    }
}

/// How a deadline construct bounds the work it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineForm {
    /// The work is inside one of its arguments (`asyncio.wait_for`,
    /// `tokio::time::timeout`).
    Call,
    /// The work is in the body of a `with` on it (`asyncio.timeout`).
    Context,
    /// Bounded when another racer is a timer (`Promise.race`).
    Race,
    /// A value that aborts on a timer (`AbortSignal.timeout`).
    Signal,
}

/// How an MCP SDK registers a tool handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// `@mcp.tool()`
    Decorator,
    /// `server.tool(name, .., cb)`
    Register,
    /// rmcp `#[tool]`
    Attribute,
    /// `impl ServerHandler { fn call_tool }`
    TraitMethod,
    /// Methods of a class deriving from `base` (`TokenVerifier`).
    Subclass,
}

/// How a library takes its settings, which decides where link looks for one
/// (see `link::settings`). Declared once per pack (`setting_form`), and
/// overridable per `[[client]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingForm {
    /// Keyword arguments: `requests.get(url, timeout=5)`,
    /// `httpx.AsyncClient(timeout=5)`, `client.with_options(timeout=5)`.
    Keyword,
    /// An options object: `fetch(url, { signal })`, `axios.create({ timeout })`,
    /// and assignments to the client after it is built.
    Options,
    /// Builder methods: `client.get(url).timeout(d)`,
    /// `Client::builder().timeout(d).build()`. Every method between a
    /// constructor and its use is a builder step that keeps the client.
    Builder,
}

impl SettingForm {
    /// What a pack that does not say uses: each language's usual idiom.
    fn usual_for(lang: PackLanguage) -> SettingForm {
        match lang {
            PackLanguage::Python => SettingForm::Keyword,
            PackLanguage::Typescript => SettingForm::Options,
            PackLanguage::Rust => SettingForm::Builder,
        }
    }
}

/// The unit of a setting's numeric value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Ms,
    S,
}

impl Unit {
    pub fn per_second(self) -> f64 {
        match self {
            Unit::Ms => 1000.0,
            Unit::S => 1.0,
        }
    }
}

/// One pack file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// `python`, `typescript` (also `javascript`: the same pack) or `rust`.
    pub language: PackLanguage,
    /// How the pack's clients take their settings: `keyword`, `options` or
    /// `builder`. A pack that does not say gets its language's usual form.
    #[serde(default)]
    pub setting_form: Option<SettingForm>,
    #[serde(default)]
    pub client: Vec<Client>,
    #[serde(default)]
    pub deadline: Vec<Deadline>,
    #[serde(default)]
    pub timeout_type: Vec<TimeoutType>,
    #[serde(default)]
    pub entry: Vec<Entry>,
    /// Calls that set a process-wide default timeout for a client kind
    /// (`socket.setdefaulttimeout`): when a module calls one, that client's
    /// missing timeout is not reported there.
    #[serde(default)]
    pub global_timeout_setter: Vec<GlobalSetter>,
    /// Methods that hand back the object they are called on, for tracing a
    /// client through `.clone()`, `.unwrap()`, `Arc::new(..)`.
    #[serde(default)]
    pub transparent_methods: Vec<String>,
    #[serde(default)]
    pub transparent_functions: Vec<String>,
    /// Functions whose call schedules a callback after a delay (`setTimeout`).
    #[serde(default)]
    pub timers: Vec<String>,
    #[serde(default)]
    pub offload: Vec<Offload>,
    /// Methods whose function argument runs somewhere else, not in the
    /// server (Playwright's `page.evaluate(() => fetch(..))` runs in the
    /// browser): calls inside it are not the server's.
    #[serde(default)]
    pub remote_code_methods: Vec<String>,
    /// Calls that create an MCP client or client transport: code making
    /// them is an MCP client, not server code.
    #[serde(default)]
    pub mcp_clients: Vec<String>,
    /// MCP servers whose lifespan function's yielded value handlers read
    /// as the request context's `lifespan_context` (FastMCP(.., lifespan=f)).
    #[serde(default)]
    pub lifespan: Option<Lifespan>,
    /// Cells set once and read everywhere (`static C: OnceLock<Client>`):
    /// their constructors, the methods that read the value (`get`,
    /// `get_or_init`) and those that put it there (`set`; `get_or_init`'s
    /// closure).
    #[serde(default)]
    pub cell_constructors: Vec<String>,
    #[serde(default)]
    pub cell_get: Vec<String>,
    #[serde(default)]
    pub cell_set: Vec<String>,
    /// Methods that register a route handler on an app or router
    /// (`app.post(path, handler)`, `.route(path, get(handler))`).
    #[serde(default)]
    pub route_methods: Vec<String>,
    /// Calls (methods or paths) that hand a request to the MCP transport
    /// or mount it (`transport.handleRequest(..)`, `.nest_service(..)`,
    /// `mcp.streamable_http_app()`): the app or router they sit in is the
    /// MCP app, and its other routes are the server's own.
    #[serde(default)]
    pub mcp_transport: Vec<String>,
    /// Calls that build a route from a handler (`Route(path, endpoint)`,
    /// axum's `get(handler)`): their function arguments are route handlers.
    #[serde(default)]
    pub route_handlers: Vec<String>,
    /// Values that are always strings (`process.env.X`, `os.getenv(..)`):
    /// an argument read from one is a URL or a key, never an options object.
    #[serde(default)]
    pub string_sources: Vec<String>,
    /// Environment reads that take a default (`os.environ.get(NAME,
    /// DEFAULT)`): the default, argument 1 or keyword `default`, is the
    /// value the code was written against, so a URL there names the
    /// service (MCP103/MCP104).
    #[serde(default)]
    pub env_with_default: Vec<String>,
    /// Authorization checks and admission gates, and how their error paths
    /// can grant access (MCP201).
    #[serde(default)]
    pub auth: Option<AuthChecks>,
    /// How a caught error's text is read (MCP202).
    #[serde(default)]
    pub error_text: Option<ErrorText>,
    /// Calls that do file-system work: their failures carry paths (MCP202).
    #[serde(default)]
    pub file_system: Vec<FileSystem>,
    /// Methods that take an error handler (`.map_err(|e| ..)`,
    /// `.catch(e => ..)`) (MCP202).
    #[serde(default)]
    pub error_handler: Vec<ErrorHandler>,
    /// Servers that send the text of an unhandled tool error to the client
    /// unless a switch masks it (MCP202).
    #[serde(default)]
    pub error_masking: Vec<ErrorMasking>,
    /// What counts as an external mutation, and what keeps one safe to
    /// repeat (MCP203, MCP204).
    #[serde(default)]
    pub mutation: Option<MutationVocab>,
    /// Calls that mutate something outside the process: file writes and
    /// removals, SDK calls that create, send, charge or delete.
    #[serde(default)]
    pub mutating_call: Vec<MutatingCall>,
    /// How a tool's behaviour hints (`readOnlyHint`, ..) are written.
    #[serde(default)]
    pub tool_annotations: Option<ToolAnnotations>,
    /// Retry libraries: their constructs, defaults and settings (MCP102).
    #[serde(default)]
    pub retry: Vec<RetryLib>,
    /// Backoff strategies given to them, and what each waits.
    #[serde(default)]
    pub backoff_strategy: Vec<BackoffStrategy>,
    /// How hand-written retry loops wait and count.
    #[serde(default)]
    pub retry_loops: Option<RetryLoops>,
    /// Connection pools and what bounds them (MCP105).
    #[serde(default)]
    pub pool: Vec<Pool>,
    /// Calls that block the thread they run on (MCP106).
    #[serde(default)]
    pub blocking: Vec<Blocking>,
    /// MCP servers that run plain (non-async) tool functions on the event
    /// loop when the project pins their package below a version (MCP106).
    #[serde(default)]
    pub sync_tools_on_loop: Vec<SyncToolsOnLoop>,
    /// Calls that run several awaitables at once and combine their results
    /// (`asyncio.gather`, `Promise.all`, `tokio::try_join!`, `join_all`).
    #[serde(default)]
    pub aggregator: Vec<Aggregator>,
    /// What caps how many of a fan-out's calls run at once, taken inside
    /// the work each item runs (`async with sem:`, p-limit's `limit(..)`).
    #[serde(default)]
    pub concurrency_limiter: Vec<ConcurrencyLimiter>,
    /// Calls that start a task from the awaitable they are given and hand
    /// the task back (`asyncio.create_task(coro)`, `tokio::spawn(fut)`):
    /// the awaitable is the work.
    #[serde(default)]
    pub task_spawners: Vec<String>,
    /// Methods that turn a collection into one value per item
    /// (`items.map(f)`); the last function argument is what each item runs.
    #[serde(default)]
    pub map_methods: Vec<String>,
    /// Methods that add one item to a list (`tasks.append(f(x))`,
    /// `promises.push(fetch(u))`).
    #[serde(default)]
    pub append_methods: Vec<String>,
    /// Methods chained on an awaitable that turn its failure into a value
    /// (`fetch(u).catch(() => null)`): it no longer fails an aggregation.
    #[serde(default)]
    pub recover_methods: Vec<String>,
    /// Exception types whose handler catches every failure
    /// (`except Exception:`); an untyped handler always does.
    #[serde(default)]
    pub catch_all_types: Vec<String>,
    /// Where HTTP clients name the URL they call and the host a client
    /// object talks to: a call's dependency (MCP103, MCP104).
    #[serde(default)]
    pub endpoint: Vec<Endpoint>,
    /// Circuit breaker libraries, and the project classes that count as one.
    #[serde(default)]
    pub breaker: Vec<Breaker>,
}

/// What makes a function an access decision, and what a failed check may
/// fall back to (MCP201). Name patterns are words joined by `_`
/// (`is_authorized`); a function's name matches when the pattern's words
/// appear in a row among its snake_case or camelCase words
/// (`isAuthorized`, `_is_authorized_for_tool`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthChecks {
    /// Checks whose `true` grants access (`authorize`, `check_rate_limit`).
    #[serde(default)]
    pub allow_when_true: Vec<String>,
    /// Gates whose `true` denies (`is_rate_limited`): `false` on an error
    /// path is what lets the request through.
    #[serde(default)]
    pub deny_when_true: Vec<String>,
    /// Gates that return a rejection (an error response, a message) or
    /// nothing when the request may go on (`checkRateLimits(ip): Response
    /// | null`): `None`/`null` on an error path lets the request through.
    /// Not used for a function that returns booleans.
    #[serde(default)]
    pub rejection_gates: Vec<String>,
    /// Words that make a bool-returning function a guard when a tool
    /// handler calls it (`can_use_tool`, `tool_permitted`).
    #[serde(default)]
    pub guard_words: Vec<String>,
    /// Words that name a store of past decisions (`self._cache`): reading
    /// one on an error path serves a stale decision.
    #[serde(default)]
    pub cache_words: Vec<String>,
    /// Methods that read a store with a default as their second argument
    /// (`dict.get(key, default)`).
    #[serde(default)]
    pub lookup_methods: Vec<String>,
    /// Methods that supply the value of a failed result (`unwrap_or`,
    /// `.catch`): their first argument is the fallback, or a function
    /// returning it.
    #[serde(default)]
    pub fallback_methods: Vec<String>,
    /// Calls that wrap a decision without changing it (`Ok(true)`).
    #[serde(default)]
    pub wrappers: Vec<String>,
    /// Operators whose right side is the value when the left is missing or
    /// falsy (`or`, `??`, `||`).
    #[serde(default)]
    pub default_operators: Vec<String>,
}

impl AuthChecks {
    fn extend(&mut self, o: AuthChecks) {
        self.allow_when_true.extend(o.allow_when_true);
        self.deny_when_true.extend(o.deny_when_true);
        self.guard_words.extend(o.guard_words);
        self.rejection_gates.extend(o.rejection_gates);
        self.cache_words.extend(o.cache_words);
        self.lookup_methods.extend(o.lookup_methods);
        self.fallback_methods.extend(o.fallback_methods);
        self.wrappers.extend(o.wrappers);
        self.default_operators.extend(o.default_operators);
    }
}

/// The lowercase words of an identifier: `isAuthorized`, `is_authorized`
/// and `IsAuthorized` all give `["is", "authorized"]`; `verifyJWTToken`
/// gives `["verify", "jwt", "token"]`.
pub fn name_words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (chars[i - 1].is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Does a name with these words match pattern `pattern` (words joined by
/// `_`): the pattern's words in a row among them.
pub fn words_match(words: &[String], pattern: &str) -> bool {
    let pat: Vec<&str> = pattern.split('_').filter(|w| !w.is_empty()).collect();
    !pat.is_empty()
        && words.len() >= pat.len()
        && words
            .windows(pat.len())
            .any(|w| w.iter().zip(&pat).all(|(a, b)| a == b))
}

/// How a caught error's text is read and handed on: what turns the error
/// bound by a catch clause into text a tool can return.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorText {
    /// Functions that turn the error they are given into text (`str`,
    /// `repr`, `String`, `JSON.stringify`).
    #[serde(default)]
    pub functions: Vec<String>,
    /// Functions that read the error being handled without being given it
    /// (`traceback.format_exc()`).
    #[serde(default)]
    pub current: Vec<String>,
    /// Methods of the error that give its text (`toString`, `to_string`).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Attributes of the error that hold its text (`message`, `stack`, `args`).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Methods of a string that interpolate the error they are given
    /// (`"failed: {}".format(e)`).
    #[serde(default)]
    pub format_methods: Vec<String>,
    /// The caught error handed to the constructor of a raised error gives
    /// it its text (`raise ToolError(e)`, `throw new Error(e)`).
    #[serde(default)]
    pub bare_argument: bool,
    /// Exception types a handler names for the caller's own bad input
    /// (`ValueError`): catching them by name is validation, not a broad catch.
    #[serde(default)]
    pub narrow_types: Vec<String>,
    /// Errors keep their type across function boundaries (Rust `Result`):
    /// only a library call made in the protected expression itself gives a
    /// library error; a project function's error type is its own.
    #[serde(default)]
    pub typed: bool,
    /// Returning a value wrapped in one of these propagates it as an error
    /// (Rust `return Err(..)`), like raising it.
    #[serde(default)]
    pub error_wrappers: Vec<String>,
}

impl ErrorText {
    fn merge(&mut self, o: ErrorText) {
        self.functions.extend(o.functions);
        self.current.extend(o.current);
        self.methods.extend(o.methods);
        self.attributes.extend(o.attributes);
        self.format_methods.extend(o.format_methods);
        self.narrow_types.extend(o.narrow_types);
        self.error_wrappers.extend(o.error_wrappers);
        self.bare_argument |= o.bare_argument;
        self.typed |= o.typed;
    }
}

/// Calls that do file-system work.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSystem {
    /// Full paths (`open`, `shutil.*`, `std::fs::*`).
    #[serde(default)]
    pub functions: Vec<String>,
    /// Method names on any receiver (`read_text` of a `pathlib.Path`).
    #[serde(default)]
    pub methods: Vec<String>,
}

/// What an error handler's value becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandlerYields {
    /// The error the call then propagates (`map_err`).
    Error,
    /// The call's result (`promise.catch(e => fallback)`).
    Result,
}

/// A method whose function argument handles the error of the work it is
/// called on: its first parameter is the error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorHandler {
    pub method: String,
    /// Index of the handler argument.
    #[serde(default)]
    pub arg: usize,
    pub yields: HandlerYields,
}

/// A server constructor whose tool errors reach the client verbatim unless
/// `keyword` is true, set there or process-wide.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorMasking {
    pub constructors: Vec<String>,
    pub keyword: String,
    /// Assignments that turn masking on for the process
    /// (`fastmcp.settings.mask_error_details = True`), by their last segments.
    #[serde(default)]
    pub assignments: Vec<String>,
    /// Environment variables that turn it on; a project that names one in
    /// its code is taken to set it.
    #[serde(default)]
    pub env: Vec<String>,
    /// The value `--fix` gives `keyword` (`True`).
    #[serde(default)]
    pub fix_value: Option<String>,
    #[serde(default)]
    pub source: String,
}

/// Where the calls of one `[[client]]` name their URL, and where a client
/// object of it is given a base URL. What link reads a call's dependency
/// (its host) from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The `[[client]]` this describes, by its `name`.
    pub client: String,
    /// Positional index of the URL in the client's functions and methods.
    #[serde(default)]
    pub url_arg: Option<usize>,
    /// Per function or method (last path segment): the URL's index
    /// (`request = 1` for `request(method, url)`).
    #[serde(default)]
    pub url_arg_by_method: std::collections::BTreeMap<String, usize>,
    /// The keyword or options-object key that holds the URL (`url`).
    #[serde(default)]
    pub url_key: Option<String>,
    /// Constructor keywords or options keys that give a client object its
    /// base URL (`base_url`, `baseURL`, `prefixUrl`).
    #[serde(default)]
    pub base_url: Vec<String>,
    /// The constructor's positional argument that is the base URL.
    #[serde(default)]
    pub base_url_arg: Option<usize>,
    /// An SDK whose host is fixed when no base URL is given
    /// (`api.openai.com`).
    #[serde(default)]
    pub host: Option<String>,
    /// The constructors and functions `host` holds for (all when empty):
    /// `AzureOpenAI` talks to the endpoint it is given, not `api.openai.com`.
    #[serde(default)]
    pub host_for: Vec<String>,
    /// Where this was checked.
    #[serde(default)]
    pub source: String,
}

/// What a mutation does to the world, for whether repeating it is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Repeating it does it again: a POST, an INSERT, a charge, a send.
    Create,
    /// Repeating it leaves the same state: a PUT, an absolute UPDATE, a
    /// file write.
    Write,
    /// It removes something (and repeating it removes nothing more).
    Delete,
}

/// The vocabulary of mutations, per language pack (the packs of one
/// language are merged by extending each list).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MutationVocab {
    /// Words of a tool or function name that say it changes something,
    /// matched as whole words of the snake_case / camelCase name.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Fragments of a parameter or field name that carry an idempotency key,
    /// matched lower-cased with `_` and `-` removed.
    #[serde(default)]
    pub key_names: Vec<String>,
    /// Header names that carry an idempotency key upstream, lower-cased.
    #[serde(default)]
    pub key_headers: Vec<String>,
    /// Upstream clients (by their `[[client]]` name) whose methods are HTTP
    /// verbs (`client.post(..)`, `requests.delete(..)`).
    #[serde(default)]
    pub http_clients: Vec<String>,
    /// What each HTTP verb does, lower-case verb to effect; verbs not listed
    /// (GET, HEAD, OPTIONS) mutate nothing.
    #[serde(default)]
    pub http_verbs: std::collections::BTreeMap<String, Effect>,
    /// Option keys / keywords that name the verb (`fetch(url, { method })`).
    #[serde(default)]
    pub verb_keys: Vec<String>,
    /// Methods that take the verb as their first argument
    /// (`requests.request("POST", url)`, `client.request(Method::POST, url)`).
    #[serde(default)]
    pub verb_arg_methods: Vec<String>,
    /// Words in a POST's URL that say it reads (a search or GraphQL query
    /// endpoint): such a POST does not contradict `readOnlyHint`.
    #[serde(default)]
    pub read_post_words: Vec<String>,
    /// SQL: the first keyword of a statement, to its effect.
    #[serde(default)]
    pub sql_statements: std::collections::BTreeMap<String, Effect>,
    /// SQL keywords that make a statement remove things (`DROP`, `TRUNCATE`
    /// besides `DELETE`), upper-case.
    #[serde(default)]
    pub sql_deletes: Vec<String>,
    /// Clauses that make an INSERT skip or overwrite a row that exists
    /// (`ON CONFLICT`), upper-case: such an INSERT is safe to repeat.
    #[serde(default)]
    pub sql_insert_dedup: Vec<String>,
}

/// A call that mutates something outside the process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MutatingCall {
    /// Paths of the function (`os.remove`, `fs.writeFile`, `stripe.*.create`).
    #[serde(default)]
    pub callee: Vec<String>,
    /// With `client`: methods of that upstream client; with `constructors`:
    /// methods of objects those build; alone: methods on any receiver
    /// (names specific enough to say what they do: `write_text`).
    #[serde(default)]
    pub methods: Vec<String>,
    /// An upstream client by its `[[client]]` name.
    #[serde(default)]
    pub client: Option<String>,
    /// Constructors of the receiver (`slack_sdk.WebClient`).
    #[serde(default)]
    pub constructors: Vec<String>,
    pub effect: Effect,
    /// The argument (position, or keyword) that holds a file mode; the call
    /// mutates only when the mode holds one of `write_modes`.
    #[serde(default)]
    pub mode_arg: Option<usize>,
    #[serde(default)]
    pub mode_kwarg: Option<String>,
    #[serde(default)]
    pub write_modes: Vec<String>,
    /// Keywords or option keys that pass the SDK an idempotency key for the
    /// operation (`idempotency_key=`, `{ idempotencyKey }`).
    #[serde(default)]
    pub key_args: Vec<String>,
    /// Where the entry's facts come from.
    pub source: String,
}

/// How tool annotations are written for a language's SDKs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolAnnotations {
    /// The keyword or config key holding the annotations (`annotations`).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Constructors whose keywords are the hints (`ToolAnnotations(..)`).
    #[serde(default)]
    pub constructors: Vec<String>,
    #[serde(default)]
    pub read_only: Vec<String>,
    #[serde(default)]
    pub destructive: Vec<String>,
    #[serde(default)]
    pub idempotent: Vec<String>,
    pub source: String,
}

/// A connection pool constructor and the settings that bound it. The pool
/// is unbounded when one of `keys` is given one of `unbounded_values`, or,
/// with `absent_unbounded`, when none of them is given at all.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    pub name: String,
    /// Full paths of the constructor (`redis.ConnectionPool`, `pg.Pool`),
    /// or, with `built_by`, of the builder the pool is built from.
    pub constructors: Vec<String>,
    /// A method chained on the constructor that builds the pool
    /// (`Pool::builder(mgr)...build()`): the pool is reported there.
    #[serde(default)]
    pub built_by: Option<String>,
    /// Methods that build a pool from a configuration value
    /// (`cfg.create_pool(..)`); with `config_keys`, the configuration is
    /// bounded when any of those keys is set anywhere in it.
    #[serde(default)]
    pub create_methods: Vec<String>,
    #[serde(default)]
    pub config_keys: Vec<String>,
    /// The client (by `Client::name`) this constructor builds, whose
    /// setting form and options position apply; none for a plain keyword
    /// constructor (`httpx.Limits`).
    #[serde(default)]
    pub client: Option<String>,
    /// The setting(s) that bound it: keyword, options key, or builder method.
    pub keys: Vec<String>,
    /// Text in a URL argument that sets it (`?max_connections=10`).
    #[serde(default)]
    pub text_keys: Vec<String>,
    /// Values of the keys that leave the pool unbounded (`None`, `0`).
    #[serde(default)]
    pub unbounded_values: Vec<String>,
    /// Leaving every key out leaves the pool unbounded (the library's default).
    #[serde(default)]
    pub absent_unbounded: bool,
    /// Other settings that bound it on their own, with the value they must
    /// have (`waitForConnections = false`: no queue at all).
    #[serde(default)]
    pub also_bounded_by: Vec<KeyValue>,
    /// The construction is not a pool of its own when one of these keywords
    /// hands it one (`Redis(connection_pool=pool)`).
    #[serde(default)]
    pub given_pool: Vec<String>,
    /// What is unbounded, for the message.
    pub what: String,
    pub fix: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// Calls that block the thread: by path (`time.sleep`, `fs.*Sync`), by
/// the upstream client that makes them (`requests`, sessions included),
/// or by method on an object one of `receivers` built (`sock.recv`,
/// `Command::new(..).output()`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blocking {
    pub name: String,
    #[serde(default)]
    pub callee: Vec<String>,
    /// Paths matched by `callee` that do not block long enough to matter.
    #[serde(default)]
    pub except: Vec<String>,
    #[serde(default)]
    pub clients: Vec<String>,
    #[serde(default)]
    pub receivers: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    /// Calls in a sync tool callback block the event loop too (Node runs
    /// every callback on it).
    #[serde(default)]
    pub in_sync_tools: bool,
    pub fix: String,
    pub source: String,
}

/// `mcp.server.fastmcp.FastMCP` of `mcp` < 2 calls a plain `def` tool on
/// the event loop.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncToolsOnLoop {
    /// Server constructors whose `@server.tool()` this applies to.
    pub servers: Vec<String>,
    /// The distribution the project pins (`mcp`).
    pub package: String,
    /// Major versions below this one run sync tools on the loop.
    pub below_major: u64,
    pub source: String,
}

/// What happens to the other results when one awaitable of an aggregation
/// fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFailure {
    /// The aggregation fails as a whole (`Promise.all`, `try_join!`).
    AllOrNothing,
    /// Each result is kept, failed or not (`Promise.allSettled`, `join!`).
    Settled,
}

/// What an aggregator is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateInput {
    /// One awaitable per argument (`gather(a, b)`, `try_join!(a, b)`); a
    /// spread argument (`gather(*tasks)`) is a collection.
    Args,
    /// A collection of awaitables as argument 0 (`Promise.all([a, b])`,
    /// `join_all(iter)`).
    Collection,
}

/// A call that runs several awaitables at once and combines their results.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregator {
    pub callee: Vec<String>,
    pub failure: AggregateFailure,
    pub input: AggregateInput,
    /// A keyword that, given `True`, keeps every result, failed or not
    /// (`return_exceptions=True`).
    #[serde(default)]
    pub settle_kwarg: Option<String>,
    /// How to keep the other results when one fails, for the finding's help.
    #[serde(default)]
    pub fix: String,
    /// The value `--fix` gives `settle_kwarg` (`True`).
    #[serde(default)]
    pub settle_value: Option<String>,
    /// A callee that settles instead (`allSettled` for `Promise.all`):
    /// `--fix` renames the call's last name to it.
    #[serde(default)]
    pub settled_name: Option<String>,
    /// Where the behaviour was checked.
    #[serde(default)]
    pub source: String,
}

/// Something that caps concurrency when the work of each item takes it:
/// built by one of `constructors`, then entered as a context (`async with
/// sem:`), acquired through one of `methods` (`sem.acquire()`), or, with
/// `called`, called with the work (p-limit's `limit(() => f(x))`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimiter {
    pub constructors: Vec<String>,
    #[serde(default)]
    pub context: bool,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub called: bool,
    #[serde(default)]
    pub source: String,
}

/// A circuit breaker: a library's, or a project class named like one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    pub name: String,
    /// Calls that build a breaker instance (`pybreaker.CircuitBreaker`,
    /// `opossum`, `failsafe::Config::new`).
    #[serde(default)]
    pub constructors: Vec<String>,
    /// A project class or struct whose name ends with one of these is a
    /// breaker (`CircuitBreaker`, `Breaker`); its instances are built by
    /// calling it (`Breaker()`, `new Breaker()`, `Breaker::new()`).
    #[serde(default)]
    pub class_suffixes: Vec<String>,
    /// The constructor's argument that is the function the breaker wraps
    /// (opossum's `new CircuitBreaker(fn, opts)`): its calls are guarded.
    #[serde(default)]
    pub wraps_arg: Option<usize>,
    /// Methods that run what they are given through the breaker, by the
    /// index of that argument (`call = 0`, `call_with = 1`).
    #[serde(default)]
    pub guard_methods: std::collections::BTreeMap<String, usize>,
    /// Methods whose result guards the body of a `with` on it
    /// (`with breaker.calling():`, purgatory's `get_breaker("name")`).
    #[serde(default)]
    pub context_methods: Vec<String>,
    /// The instance guards the body of a `with` on it (`with breaker:`).
    #[serde(default)]
    pub context: bool,
    /// The instance guards the function it decorates (`@breaker`), or,
    /// with `named`, the instance called with a name does (`@factory("svc")`).
    #[serde(default)]
    pub decorator: bool,
    /// The instance is a factory: the name it is called with (or given to a
    /// context method) picks the breaker, so one name is one breaker.
    #[serde(default)]
    pub named: bool,
    /// Decorators that give the function they decorate a breaker of its own
    /// (`@circuit`, `@circuit(failure_threshold=3)`).
    #[serde(default)]
    pub decorators: Vec<String>,
    /// Calls that combine policies (cockatiel's `wrap(retry, breaker)`):
    /// what they build runs through every breaker among their arguments.
    #[serde(default)]
    pub combinators: Vec<String>,
    /// Where this was checked.
    #[serde(default)]
    pub source: String,
}

/// A call that runs a function it is handed (`asyncio.to_thread(f, *args,
/// **kwargs)`, `loop.run_in_executor(None, f, *args)`, `functools.partial`):
/// the handed function is judged as if called with the remaining arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offload {
    /// Full paths (`asyncio.to_thread`)…
    #[serde(default)]
    pub callee: Vec<String>,
    /// …or a method name on any receiver (`run_in_executor`).
    #[serde(default)]
    pub method: Option<String>,
    /// Index of the function argument; the arguments after it are its own.
    pub func_arg: usize,
}

/// A library that talks to an upstream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub name: String,
    pub kind: ClientKind,
    /// Calls that reach the upstream directly (`requests.get`, `fetch`).
    #[serde(default)]
    pub functions: Vec<String>,
    /// Calls that build a client object (`httpx.AsyncClient`, `axios.create`).
    #[serde(default)]
    pub constructors: Vec<String>,
    /// Methods of a client object that reach the upstream. `"*"` means
    /// every method (an SDK whose API calls are generated: boto3), except
    /// `local_methods` and `derive`.
    #[serde(default)]
    pub methods: Vec<String>,
    /// With `methods = ["*"]`: methods that do not reach the upstream
    /// (`generate_presigned_url`, `get_paginator`).
    #[serde(default)]
    pub local_methods: Vec<String>,
    /// Functions that build a statement, which one of `methods` then runs
    /// on a client handed to it as argument `executor_arg`
    /// (`sqlx::query(sql).fetch_all(&pool)`, `redis::cmd("GET").query_async(&mut con)`).
    #[serde(default)]
    pub statements: Vec<String>,
    #[serde(default)]
    pub executor_arg: usize,
    /// The client is an upstream only when a string argument of its
    /// constructor mentions one of these (a SQLAlchemy engine on
    /// `postgresql://`, not on `sqlite://`); otherwise its calls are not judged.
    #[serde(default)]
    pub upstream_text: Vec<String>,
    /// A wrapper that keeps the settings of a client it is given
    /// (`reqwest_middleware::ClientBuilder::new(client)`,
    /// `Client::new().with_http_client(client)`, `Redis(connection_pool=pool)`):
    /// where that client is given. When it is, its settings and default
    /// are the wrapper's.
    #[serde(default)]
    pub inner: Vec<Inner>,
    /// The upstream methods live on resource attributes of the client
    /// (`client.chat.completions.create(..)`), not on the client itself.
    #[serde(default)]
    pub resource_attributes: bool,
    /// Rust: a method that turns the request into a value instead of sending
    /// it (`RequestBuilder::build`); a request ending in one is judged where
    /// it is sent (`client.execute(req)`), not where it is built.
    #[serde(default)]
    pub deferred: Vec<String>,
    /// Methods that send a request a client method only builds (reqwest's
    /// `send`): a method call none of these follow reaches nothing. A
    /// method listed here sends by itself (`execute`).
    #[serde(default)]
    pub sent_by: Vec<String>,
    /// Methods of a client that return another object carrying its settings
    /// (`pool.acquire()`, `conn.cursor()`).
    #[serde(default)]
    pub derive: Vec<String>,
    /// Where this client takes its settings, when not the pack's
    /// `setting_form`. Always set once the pack is loaded.
    #[serde(default)]
    pub setting_form: Option<SettingForm>,
    /// What bounds one call, in the client's `setting_form`: a keyword
    /// argument, an options-object key, or a method chained on the request.
    #[serde(default)]
    pub timeout: Vec<String>,
    /// When the timeout value is an object literal (got's `timeout: {..}`),
    /// only these keys bound the wait.
    #[serde(default)]
    pub timeout_subkeys: Vec<String>,
    /// Positional index of the call's timeout argument, where it has one.
    #[serde(default)]
    pub timeout_positional: Option<usize>,
    /// What bounds every call of a client, in its `setting_form`: keyword /
    /// option key / builder method on its constructor.
    #[serde(default)]
    pub client_timeout: Vec<String>,
    /// Text that, found in a string argument of the constructor, sets a
    /// bound (`statement_timeout` in a Postgres DSN or `options`).
    #[serde(default)]
    pub client_timeout_text: Vec<String>,
    /// Assignments that set a bound on a client after construction, relative
    /// to the client (`defaults.timeout` for `axios.defaults.timeout = ..`).
    #[serde(default)]
    pub client_assign: Vec<String>,
    /// Calling one of these on a client hides its settings from us
    /// (`session.mount(..)` with a timeout adapter): calls through it are
    /// not judged.
    #[serde(default)]
    pub opaque_methods: Vec<String>,
    /// Methods chained on the call's result that bound it
    /// (`collection.find(q).maxTimeMS(5000)`).
    #[serde(default)]
    pub chain_timeout: Vec<String>,
    /// TS/JS: index of the options argument of the functions and methods.
    #[serde(default)]
    pub options_arg: Option<usize>,
    /// TS/JS: index of the constructor's options argument (default 0).
    #[serde(default)]
    pub client_options_arg: Option<usize>,
    /// TS/JS: the constructor's options are its last argument, when that is
    /// not a string (`new Redis(url, opts)`, `new Redis(port, host, opts)`).
    #[serde(default)]
    pub client_options_last: bool,
    /// TS/JS: per-method override of `options_arg` (`post = 2`).
    #[serde(default)]
    pub options_arg_by_method: std::collections::BTreeMap<String, usize>,
    /// Values of the timeout that mean "no limit" besides None/null:
    /// `"0"` for axios and node-postgres, `"false"` for ky.
    #[serde(default)]
    pub unbounded_values: Vec<String>,
    /// The library's default: `none`, or a duration such as `5s` or `300s`.
    pub default: Limit,
    /// How to fix a missing bound, shown as the finding's help.
    pub fix: String,
    /// The value `--fix` gives the first of `timeout` on a call that nothing
    /// bounds, written in the client's `setting_form`: `timeout=30` (keyword),
    /// `signal: AbortSignal.timeout(30_000)` (options), `.timeout(V)` chained
    /// on the request (builder). No value: no automatic fix.
    #[serde(default)]
    pub fix_timeout: Option<String>,
    /// The module `fix_timeout` names (`aiohttp` in
    /// `aiohttp.ClientTimeout(total=30)`): the fix is offered only in a
    /// file that imports it under that name.
    #[serde(default)]
    pub fix_import: Option<String>,
    /// For one of `functions` that takes no timeout (`reqwest::get`): two
    /// texts; `--fix` replaces the callee with the first and appends the
    /// second after the call.
    #[serde(default)]
    pub fix_function: Vec<String>,
    /// Where the default was checked.
    #[serde(default)]
    pub source: String,
}

/// Where a wrapper is handed the client whose settings it keeps. With
/// `method`, the client is argument `arg` of that method in the
/// constructor's builder chain; otherwise argument `arg` (or keyword
/// `kwarg`) of the constructor, for the `constructors` listed (all when empty).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inner {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub arg: Option<usize>,
    #[serde(default)]
    pub kwarg: Option<String>,
    #[serde(default)]
    pub constructors: Vec<String>,
}

impl Client {
    /// Where this client takes its settings.
    pub fn form(&self) -> SettingForm {
        // `Knowledge::add` fills it from the pack; a client built by hand
        // (tests) gets the keyword form.
        self.setting_form.unwrap_or(SettingForm::Keyword)
    }

    /// The names its timeout goes by, in each place a setting can be given.
    pub fn timeout_keys<'a>(&'a self, lk: &'a LangKnowledge) -> SettingKeys<'a> {
        SettingKeys {
            call: &self.timeout,
            call_positional: self.timeout_positional,
            chained: &self.chain_timeout,
            client: &self.client_timeout,
            text: &self.client_timeout_text,
            assigned: &self.client_assign,
            setters: &lk.global_setters,
        }
    }

    /// Does `method` of this client reach the upstream?
    pub fn has_method(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m == method)
            || self.methods.iter().any(|m| m == "*")
                && !self.local_methods.iter().any(|m| m == method)
                && !self.derive.iter().any(|m| m == method)
    }
}

/// The names one setting goes by for one client, in each place it can be
/// given; link looks for them where the client's [`SettingForm`] says. A
/// rule asks for a timeout with [`Client::timeout_keys`], and for any other
/// setting (`max_connections`, `retries`) by filling in what it needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingKeys<'a> {
    /// On the call: keyword, options-object key, or method chained on the
    /// request builder.
    pub call: &'a [String],
    /// On the call: a positional argument.
    pub call_positional: Option<usize>,
    /// A method chained on the call's result, in any form
    /// (`collection.find(q).maxTimeMS(5000)`).
    pub chained: &'a [String],
    /// On the client: constructor keyword or options key, builder method,
    /// or keyword of a derive step (`client.with_options(timeout=5)`).
    pub client: &'a [String],
    /// Text in the client's DSN or settings strings, or in a statement run
    /// on it (`statement_timeout`).
    pub text: &'a [String],
    /// Assignments relative to the client or library object
    /// (`defaults.timeout` for `api.defaults.timeout = 5000`).
    pub assigned: &'a [String],
    /// Process-wide setters; those whose `bounds` name the client apply.
    pub setters: &'a [GlobalSetter],
}

/// A construct that bounds the work inside it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub callee: Vec<String>,
    pub form: DeadlineForm,
    /// Where the duration is given, to tell `wait_for(x, None)` from a bound.
    #[serde(default)]
    pub duration_arg: Option<usize>,
    #[serde(default)]
    pub duration_kwarg: Option<String>,
}

/// A timeout value type whose fields decide whether it bounds anything
/// (`httpx.Timeout(None)` does not, `aiohttp.ClientTimeout(total=10)` does).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutType {
    pub callee: Vec<String>,
    /// Fields that bound the whole call or each read.
    pub bounding: Vec<String>,
    /// Positional arguments that are bounding fields, by index.
    #[serde(default)]
    pub positional: Vec<usize>,
    /// What applies when no bounding field is given (botocore's `Config()`
    /// keeps its 60 s read timeout); without it, such a value bounds nothing.
    #[serde(default)]
    pub default: Option<Limit>,
}

/// How an MCP SDK registers a tool handler.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `decorator` (`@mcp.tool()`, and `mcp.tool()(fn)`), `register`
    /// (`server.tool(name, .., cb)`), `attribute` (rmcp `#[tool]`),
    /// `trait_method` (`impl ServerHandler { fn call_tool }`), `subclass`
    /// (methods of a class deriving from `base`).
    pub kind: EntryKind,
    /// What the handler serves.
    #[serde(default)]
    pub role: Role,
    /// subclass: the base class or interface, last segment.
    #[serde(default)]
    pub base: Option<String>,
    /// The decorator's / registering call's method, or the attribute's name.
    #[serde(default)]
    pub method: String,
    /// register: the handler argument's index; negative counts from the end.
    #[serde(default)]
    pub handler_arg: Option<i32>,
    /// register: the handler is this key of an object argument (`execute`).
    #[serde(default)]
    pub handler_key: Option<String>,
    /// register: the tool name's keyword / object key.
    #[serde(default)]
    pub name_key: Option<String>,
    /// register: the first argument must be this name (`CallToolRequestSchema`).
    #[serde(default)]
    pub first_arg: Option<String>,
    /// register: the first argument must be a string literal (the tool name).
    #[serde(default)]
    pub name_first: bool,
    /// trait_method: the trait.
    #[serde(default)]
    pub r#trait: Option<String>,
    /// A dispatcher serves every tool.
    #[serde(default)]
    pub dispatcher: bool,
    /// register / decorator: match the call or decorator by its resolved
    /// path instead of `method` (`mcp.server.lowlevel.Server(..,
    /// on_call_tool=handler)`, fastmcp's standalone `@tool`).
    #[serde(default)]
    pub callee: Vec<String>,
    /// register: handlers registered for these first arguments are not
    /// the server's (a client's `setRequestHandler(CreateMessageRequestSchema, ..)`).
    #[serde(default)]
    pub not_first_arg: Vec<String>,
}

/// What an MCP entry point serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Tool,
    Resource,
    Prompt,
    Completion,
    /// A low-level request handler (list tools, read a resource, ..).
    Handler,
    /// Per-request authentication in front of the MCP endpoint.
    Auth,
    /// An HTTP route the MCP app itself serves.
    Route,
}

impl Role {
    /// How a message names a handler of this role.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Tool => "MCP tool",
            Role::Resource => "MCP resource",
            Role::Prompt => "MCP prompt",
            Role::Completion => "MCP completion handler",
            Role::Handler => "MCP request handler",
            Role::Auth => "MCP auth check",
            Role::Route => "MCP server route",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalSetter {
    pub callee: Vec<String>,
    /// Client names (`Client::name`) the setter bounds.
    pub bounds: Vec<String>,
    /// The setting holds for the whole process, so a call anywhere in the
    /// project counts (`setGlobalDispatcher` in the entry module); otherwise
    /// only a call in the same module.
    #[serde(default)]
    pub project_wide: bool,
    /// The setter bounds only when the value it is given sets each of these.
    #[serde(default)]
    pub requires: Option<SetterRequires>,
}

/// `setGlobalDispatcher(new Agent({ headersTimeout, bodyTimeout }))`: the
/// setter's argument `arg` is built by one of `constructors` whose options
/// object sets every one of `keys`, each to a finite value no longer than
/// [`MAX_BOUNDED_DEFAULT_SECS`] (it replaces a library default, so it is
/// held to the same ceiling). A value we cannot read counts as set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetterRequires {
    #[serde(default)]
    pub arg: usize,
    pub constructors: Vec<String>,
    pub keys: Vec<String>,
    pub unit: Unit,
    /// Values that mean "no limit" (`0` for undici).
    #[serde(default)]
    pub unbounded_values: Vec<String>,
}

/// The packs of one language, merged.
#[derive(Debug, Default)]
pub struct LangKnowledge {
    pub clients: Vec<Client>,
    pub deadlines: Vec<Deadline>,
    pub timeout_types: Vec<TimeoutType>,
    pub entries: Vec<Entry>,
    pub global_setters: Vec<GlobalSetter>,
    pub transparent_methods: Vec<String>,
    pub transparent_functions: Vec<String>,
    pub timers: Vec<String>,
    pub offload: Vec<Offload>,
    pub remote_code_methods: Vec<String>,
    pub mcp_clients: Vec<String>,
    pub string_sources: Vec<String>,
    pub env_with_default: Vec<String>,
    pub aggregators: Vec<Aggregator>,
    pub concurrency_limiters: Vec<ConcurrencyLimiter>,
    pub task_spawners: Vec<String>,
    pub map_methods: Vec<String>,
    pub append_methods: Vec<String>,
    pub recover_methods: Vec<String>,
    pub catch_all_types: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    pub breakers: Vec<Breaker>,
    pub route_methods: Vec<String>,
    pub mcp_transport: Vec<String>,
    pub route_handlers: Vec<String>,
    pub cell_constructors: Vec<String>,
    pub cell_get: Vec<String>,
    pub cell_set: Vec<String>,
    pub lifespans: Vec<Lifespan>,
    pub auth: AuthChecks,
    pub error_text: ErrorText,
    pub file_system: Vec<FileSystem>,
    pub error_handlers: Vec<ErrorHandler>,
    pub error_masking: Vec<ErrorMasking>,
    pub mutation: MutationVocab,
    pub mutating_calls: Vec<MutatingCall>,
    pub tool_annotations: ToolAnnotations,
    pub retries: Vec<RetryLib>,
    pub backoff_strategies: Vec<BackoffStrategy>,
    pub retry_loops: RetryLoops,
    pub pools: Vec<Pool>,
    pub blocking: Vec<Blocking>,
    pub sync_tools_on_loop: Vec<SyncToolsOnLoop>,
}

/// What a retry waits between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// No wait: the next attempt goes out at once.
    None,
    /// The same wait before every attempt.
    Fixed,
    /// A wait that grows (exponential, Fibonacci) with no random part.
    Exponential,
    /// A wait with a random part.
    Jittered,
    /// Something we do not judge (a linear wait, a strategy of the user's).
    Other,
}

/// A retry library's construct: a decorator (`@retry(..)`), a wrapper
/// call (`pRetry(fn, opts)`), a policy (`retry(handleAll, opts)`) or a
/// backoff builder (`ExponentialBuilder::default()`). Its settings are read
/// wherever the call has them: keywords, keys of an options-object
/// argument, or builder methods chained on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryLib {
    pub name: String,
    pub callee: Vec<String>,
    /// Where the backoff strategy is given (`wait`, `backoff`, `retryDelay`).
    #[serde(default)]
    pub strategy: Vec<String>,
    /// Positional index of the strategy (`backoff.on_exception(backoff.expo, ..)`).
    #[serde(default)]
    pub strategy_arg: Option<usize>,
    /// What it waits when no strategy is given.
    pub backoff: Backoff,
    /// Settings that, given a value other than zero, make the wait grow
    /// exponentially (urllib3's `backoff_factor`).
    #[serde(default)]
    pub growth: Vec<String>,
    /// Settings that add a random part (`with_jitter()`, `randomize: true`,
    /// `backoff_jitter=0.5`); given as `None`/`null`/`0`/`false` they take it away.
    #[serde(default)]
    pub jitter: Vec<String>,
    /// The wait is randomized unless a `jitter` setting turns that off
    /// (backoff's `jitter=full_jitter` default).
    #[serde(default)]
    pub jitter_by_default: bool,
    /// Settings that cap attempts or time; a `None`/`null`/`Infinity`
    /// value removes the cap.
    #[serde(default)]
    pub cap: Vec<String>,
    /// Builder methods that remove the cap (`without_max_times()`).
    #[serde(default)]
    pub uncap: Vec<String>,
    /// Whether it stops on its own when no cap is given.
    pub capped: bool,
    /// Whether a missing cap is reported. RULES.md calls backoff's
    /// `on_exception(backoff.expo, ..)` fine for its full jitter alone,
    /// cap or not: its pack entry turns this off.
    #[serde(default = "yes")]
    pub cap_judged: bool,
    /// A `cap` setting given as `None` removes the cap (the backoff crate's
    /// `with_max_elapsed_time(None)`); otherwise `None` keeps the default.
    #[serde(default)]
    pub null_uncaps: bool,
    /// TS/JS: index of the options-object argument; settings are read there
    /// only. Without it, keywords and builder methods are read.
    #[serde(default)]
    pub options_arg: Option<usize>,
    /// Settings that, given as `0`/`False`, turn retrying off (urllib3's
    /// `total`): nothing to judge then.
    #[serde(default)]
    pub off: Vec<String>,
    /// Where the defaults were checked.
    #[serde(default)]
    pub source: String,
}

fn yes() -> bool {
    true
}

/// A backoff strategy value given to a retry construct
/// (`wait_exponential(..)`, `backoff.expo`, `new ConstantBackoff(ms)`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffStrategy {
    /// Calls or names (`tenacity.wait_fixed`, `backoff.expo`).
    pub callee: Vec<String>,
    pub backoff: Backoff,
    #[serde(default)]
    pub source: String,
}

/// How hand-written retry loops wait and count attempts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryLoops {
    /// Calls that wait for their first argument (`time.sleep`, `tokio::time::sleep`).
    #[serde(default)]
    pub sleeps: Vec<String>,
    /// Names of functions that wait, wherever they are defined (a project's
    /// own `sleep(ms)` / `delay(ms)` helper).
    #[serde(default)]
    pub sleep_names: Vec<String>,
    /// Calls whose iteration counts (`range(n)`): a loop over one is bounded.
    #[serde(default)]
    pub ranges: Vec<String>,
    /// Calls whose result is random (`random.uniform`, `Math.random`, `rand::*`).
    #[serde(default)]
    pub random: Vec<String>,
    /// Calls and methods that raise to a power (`pow`, `Math.pow`).
    #[serde(default)]
    pub power: Vec<String>,
    /// Calls and methods a wait's duration passes through unchanged in
    /// kind (`Duration::from_secs`, `min`, `float`), by last segment.
    #[serde(default)]
    pub pure: Vec<String>,
}

impl RetryLoops {
    fn extend(&mut self, other: RetryLoops) {
        self.sleeps.extend(other.sleeps);
        self.sleep_names.extend(other.sleep_names);
        self.ranges.extend(other.ranges);
        self.random.extend(other.random);
        self.power.extend(other.power);
        self.pure.extend(other.pure);
    }
}

/// Where an MCP server keeps the value its lifespan yields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifespan {
    /// Server constructors that take a lifespan function.
    pub constructors: Vec<String>,
    /// The keyword that names it (`lifespan`).
    pub keyword: String,
    /// The attribute handlers read the yielded value through
    /// (`ctx.request_context.lifespan_context`).
    pub attribute: String,
}

#[derive(Debug, Default)]
pub struct Knowledge {
    pub python: LangKnowledge,
    pub typescript: LangKnowledge,
    pub rust: LangKnowledge,
}

impl Knowledge {
    /// The built-in packs plus the user's.
    pub fn load(extra: &[impl AsRef<Path>]) -> Result<Knowledge, KnowledgeError> {
        let mut k = Knowledge::default();
        for (name, text) in BUILTIN {
            k.add(name, text)?;
        }
        for p in extra {
            let p = p.as_ref();
            let text = std::fs::read_to_string(p).map_err(|source| KnowledgeError::Read {
                path: p.display().to_string(),
                source,
            })?;
            k.add(&p.display().to_string(), &text)?;
        }
        Ok(k)
    }

    pub fn builtin() -> Knowledge {
        Knowledge::load(&[] as &[&Path]).expect("the built-in knowledge packs parse")
    }

    /// Adds one pack's entries.
    pub fn add(&mut self, name: &str, text: &str) -> Result<(), KnowledgeError> {
        let pack: Pack = toml::from_str(text).map_err(|e| KnowledgeError::Parse {
            path: name.to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let target = match pack.language {
            PackLanguage::Python => &mut self.python,
            PackLanguage::Typescript => &mut self.typescript,
            PackLanguage::Rust => &mut self.rust,
        };
        for c in &pack.client {
            validate_client(name, c)?;
        }
        let form = pack
            .setting_form
            .unwrap_or_else(|| SettingForm::usual_for(pack.language));
        let mut clients = pack.client;
        for c in &mut clients {
            c.setting_form.get_or_insert(form);
        }
        for e in &pack.entry {
            if e.kind == EntryKind::Subclass && e.base.is_none() {
                return Err(KnowledgeError::Parse {
                    path: name.to_string(),
                    message: "entry kind = \"subclass\" needs `base`".into(),
                });
            }
        }
        target.clients.extend(clients);
        target.deadlines.extend(pack.deadline);
        target.timeout_types.extend(pack.timeout_type);
        target.entries.extend(pack.entry);
        target.global_setters.extend(pack.global_timeout_setter);
        target.transparent_methods.extend(pack.transparent_methods);
        target
            .transparent_functions
            .extend(pack.transparent_functions);
        target.timers.extend(pack.timers);
        target.offload.extend(pack.offload);
        target.remote_code_methods.extend(pack.remote_code_methods);
        target.mcp_clients.extend(pack.mcp_clients);
        target.route_methods.extend(pack.route_methods);
        target.mcp_transport.extend(pack.mcp_transport);
        target.route_handlers.extend(pack.route_handlers);
        target.cell_constructors.extend(pack.cell_constructors);
        target.lifespans.extend(pack.lifespan);
        target.cell_get.extend(pack.cell_get);
        target.cell_set.extend(pack.cell_set);
        target.string_sources.extend(pack.string_sources);
        target.env_with_default.extend(pack.env_with_default);
        if let Some(a) = pack.auth {
            target.auth.extend(a);
        }
        if let Some(t) = pack.error_text {
            target.error_text.merge(t);
        }
        target.file_system.extend(pack.file_system);
        target.error_handlers.extend(pack.error_handler);
        target.error_masking.extend(pack.error_masking);
        if let Some(v) = pack.mutation {
            let t = &mut target.mutation;
            t.verbs.extend(v.verbs);
            t.key_names.extend(v.key_names);
            t.key_headers.extend(v.key_headers);
            t.http_clients.extend(v.http_clients);
            t.http_verbs.extend(v.http_verbs);
            t.verb_keys.extend(v.verb_keys);
            t.verb_arg_methods.extend(v.verb_arg_methods);
            t.read_post_words.extend(v.read_post_words);
            t.sql_statements.extend(v.sql_statements);
            t.sql_deletes.extend(v.sql_deletes);
            t.sql_insert_dedup.extend(v.sql_insert_dedup);
        }
        target.mutating_calls.extend(pack.mutating_call);
        if let Some(a) = pack.tool_annotations {
            let t = &mut target.tool_annotations;
            t.keys.extend(a.keys);
            t.constructors.extend(a.constructors);
            t.read_only.extend(a.read_only);
            t.destructive.extend(a.destructive);
            t.idempotent.extend(a.idempotent);
        }
        target.retries.extend(pack.retry);
        target.backoff_strategies.extend(pack.backoff_strategy);
        if let Some(r) = pack.retry_loops {
            target.retry_loops.extend(r);
        }
        target.pools.extend(pack.pool);
        target.blocking.extend(pack.blocking);
        target.sync_tools_on_loop.extend(pack.sync_tools_on_loop);
        target.aggregators.extend(pack.aggregator);
        target.concurrency_limiters.extend(pack.concurrency_limiter);
        target.task_spawners.extend(pack.task_spawners);
        target.map_methods.extend(pack.map_methods);
        target.append_methods.extend(pack.append_methods);
        target.recover_methods.extend(pack.recover_methods);
        target.catch_all_types.extend(pack.catch_all_types);
        target.endpoints.extend(pack.endpoint);
        target.breakers.extend(pack.breaker);
        Ok(())
    }

    pub fn for_lang(&self, lang: Lang) -> &LangKnowledge {
        match lang {
            Lang::Python => &self.python,
            Lang::TypeScript | Lang::JavaScript => &self.typescript,
            Lang::Rust => &self.rust,
        }
    }

    /// Literals a file must contain to be worth parsing on its own: the root
    /// of every library path the packs know (`requests`, `fetch`, `reqwest`)
    /// the deadline and timer roots, and the MCP SDK registration idioms. A
    /// file with none of them can only matter through a name another file
    /// defines; `scan` pulls those in by name in later rounds.
    pub fn prefilter_literals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in [&self.python, &self.typescript, &self.rust] {
            k.clients.iter().for_each(|t| t.prefilter_words(&mut out));
            k.global_setters
                .iter()
                .for_each(|t| t.prefilter_words(&mut out));
            // Deadlines and timers too: a helper that applies one decides
            // whether the calls it wraps are reported.
            k.deadlines.iter().for_each(|t| t.prefilter_words(&mut out));
            out.extend(k.timers.iter().map(|p| path_root(p)));
            k.entries.iter().for_each(|t| t.prefilter_words(&mut out));
            // A file that mounts the MCP transport may register the app's routes.
            out.extend(k.mcp_transport.iter().map(|p| path_root(p)));
            k.auth.prefilter_words(&mut out);
            // Mutating calls decide MCP203/MCP204 in the helpers tools call.
            for c in &k.mutating_calls {
                // A builtin (`open`) names no library: it would let every file in.
                out.extend(
                    c.callee
                        .iter()
                        .chain(&c.constructors)
                        .filter(|p| p.contains(['.', ':', '/']))
                        .map(|p| path_root(p)),
                );
            }
            // Retry libraries (MCP102). Hand-written retry loops need no
            // word of their own: they call an upstream, or a project
            // function that the files calling it pull in by name.
            for r in &k.retries {
                out.extend(r.callee.iter().map(|p| path_root(p)));
            }
            for p in &k.pools {
                out.extend(p.constructors.iter().map(|c| path_root(c)));
            }
            for b in &k.blocking {
                out.extend(b.callee.iter().chain(&b.receivers).map(|c| path_root(c)));
            }
            // A breaker built in a file that makes no upstream call decides
            // whether the calls it guards elsewhere are reported.
            k.breakers.iter().for_each(|t| t.prefilter_words(&mut out));
        }
        out.retain(|s| s.len() >= 3);
        out.sort();
        out.dedup();
        out
    }
}

/// The words a knowledge table contributes to the prefilter: a file that
/// contains none of any table's words can only matter through a name
/// another file defines.
pub trait PrefilterWords {
    fn prefilter_words(&self, out: &mut Vec<String>);
}

/// The root of a library path (`requests` for `requests.api.*`): what an
/// import or a call of it has to spell out. A root too short to search
/// for (`fs`, `os`) gives way to the last segment, which the call spells
/// out too (`readFileSync`; `Sync` for `fs.*Sync`).
fn path_root(p: &str) -> String {
    let root = first_segment(p).trim_end_matches('*');
    if root.len() >= 3 {
        return root.to_string();
    }
    p.rsplit(['.', ':', '/'])
        .next()
        .unwrap_or(p)
        .trim_matches('*')
        .to_string()
}

impl PrefilterWords for Client {
    fn prefilter_words(&self, out: &mut Vec<String>) {
        let paths = self
            .functions
            .iter()
            .chain(&self.constructors)
            .chain(&self.statements);
        out.extend(paths.map(|p| path_root(p)));
    }
}

impl PrefilterWords for AuthChecks {
    /// An auth check often lives in a module of its own that mentions no
    /// library: each name pattern as a name spells it, snake_case
    /// (`rate_limit`), camelCase (`rateLimit`) and inside a camelCase name
    /// (`RateLimit`).
    fn prefilter_words(&self, out: &mut Vec<String>) {
        let cap = |w: &str| {
            let mut c: Vec<char> = w.chars().collect();
            if let Some(h) = c.first_mut() {
                *h = h.to_ascii_uppercase();
            }
            c.into_iter().collect::<String>()
        };
        for p in self
            .allow_when_true
            .iter()
            .chain(&self.deny_when_true)
            .chain(&self.rejection_gates)
            .chain(&self.guard_words)
        {
            let words: Vec<&str> = p.split('_').filter(|w| !w.is_empty()).collect();
            let Some((first, rest)) = words.split_first() else {
                continue;
            };
            let tail: String = rest.iter().map(|w| cap(w)).collect();
            out.push(words.join("_"));
            out.push(format!("{first}{tail}"));
            out.push(format!("{}{tail}", cap(first)));
        }
    }
}

impl PrefilterWords for Breaker {
    fn prefilter_words(&self, out: &mut Vec<String>) {
        let paths = self
            .constructors
            .iter()
            .chain(&self.decorators)
            .chain(&self.combinators);
        out.extend(paths.map(|p| path_root(p)));
        out.extend(self.class_suffixes.iter().cloned());
    }
}

impl PrefilterWords for GlobalSetter {
    fn prefilter_words(&self, out: &mut Vec<String>) {
        out.extend(self.callee.iter().map(|p| path_root(p)));
    }
}

impl PrefilterWords for Deadline {
    fn prefilter_words(&self, out: &mut Vec<String>) {
        out.extend(self.callee.iter().map(|p| path_root(p)));
    }
}

impl PrefilterWords for Entry {
    /// The registering method or attribute (`tool`, `registerTool`).
    fn prefilter_words(&self, out: &mut Vec<String>) {
        if !self.method.is_empty() && self.method != "*" {
            out.push(self.method.clone());
        }
        out.extend(self.callee.iter().map(|c| path_root(c)));
        out.extend(self.base.clone());
        out.extend(self.r#trait.clone());
    }
}

pub fn first_segment(path: &str) -> &str {
    let head = path.split("::").next().unwrap_or(path);
    head.split('.').next().unwrap_or(head)
}

fn validate_client(pack: &str, c: &Client) -> Result<(), KnowledgeError> {
    let err = |message: String| KnowledgeError::Parse {
        path: pack.to_string(),
        message: format!("client {:?}: {message}", c.name),
    };
    if c.functions.is_empty() && c.constructors.is_empty() {
        return Err(err("needs functions or constructors".into()));
    }
    if !c.constructors.is_empty() && c.methods.is_empty() {
        return Err(err("constructors need methods".into()));
    }
    if !c.statements.is_empty() && c.constructors.is_empty() {
        return Err(err(
            "statements need constructors (the clients they run on)".into(),
        ));
    }
    Ok(())
}

/// The longest default (in seconds) that still counts as a bound.
pub const MAX_BOUNDED_DEFAULT_SECS: f64 = 120.0;

/// `none` → Some(None); `5s` / `300s` / `1.5s` / `2m` → Some(Some(secs)).
pub fn parse_default(s: &str) -> Option<Option<f64>> {
    let s = s.trim();
    if s == "none" {
        return Some(None);
    }
    if let Some(n) = s.strip_suffix("ms") {
        return n.parse::<f64>().ok().map(|v| Some(v / 1000.0));
    }
    if let Some(n) = s.strip_suffix('s') {
        return n.parse::<f64>().ok().map(Some);
    }
    if let Some(n) = s.strip_suffix('m') {
        return n.parse::<f64>().ok().map(|v| Some(v * 60.0));
    }
    None
}

/// Does `path` match `pattern`? A `*` matches any run of characters,
/// separators included (`requests.api.*`, `stripe.*.create`).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    // Leftmost match for each middle piece keeps the most room for the rest.
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

pub fn any_matches(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| path_matches(p, path))
}

pub fn last_segment(path: &str) -> &str {
    let tail = path.rsplit("::").next().unwrap_or(path);
    let tail = tail.rsplit('.').next().unwrap_or(tail);
    tail.rsplit('/').next().unwrap_or(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_load() {
        let k = Knowledge::builtin();
        assert!(k.python.clients.iter().any(|c| c.name == "requests"));
        assert!(k.typescript.clients.iter().any(|c| c.name == "axios"));
        assert!(k.rust.clients.iter().any(|c| c.name == "reqwest"));
    }

    #[test]
    fn a_user_pack_adds_a_client_without_code() {
        let mut k = Knowledge::builtin();
        k.add(
            "mine.toml",
            r#"
language = "python"
[[client]]
name = "corp-http"
kind = "http"
functions = ["corp.http.fetch"]
timeout = ["deadline"]
default = "none"
fix = "pass deadline="
"#,
        )
        .unwrap();
        assert!(k.python.clients.iter().any(|c| c.name == "corp-http"));
    }

    #[test]
    fn a_pack_says_where_its_clients_take_settings() {
        let k = Knowledge::builtin();
        let form = |lk: &LangKnowledge, name: &str| {
            lk.clients.iter().find(|c| c.name == name).unwrap().form()
        };
        assert_eq!(form(&k.python, "requests"), SettingForm::Keyword);
        assert_eq!(form(&k.typescript, "axios"), SettingForm::Options);
        assert_eq!(form(&k.rust, "reqwest"), SettingForm::Builder);
        let mut k = Knowledge::default();
        k.add(
            "mine.toml",
            r#"
language = "rust"
[[client]]
name = "usual"
kind = "http"
functions = ["corp::get"]
default = "none"
fix = ""
[[client]]
name = "own"
kind = "http"
functions = ["corp::fetch"]
setting_form = "options"
default = "none"
fix = ""
"#,
        )
        .unwrap();
        // A pack that does not say gets its language's usual form; a client
        // may say otherwise.
        assert_eq!(form(&k.rust, "usual"), SettingForm::Builder);
        assert_eq!(form(&k.rust, "own"), SettingForm::Options);
        let e = k
            .add(
                "bad.toml",
                "language = \"python\"\nsetting_form = \"kwargs\"\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("kwargs"), "{e}");
    }

    #[test]
    fn a_bad_pack_names_what_is_wrong() {
        let mut k = Knowledge::default();
        let e = k
            .add(
                "bad.toml",
                "language = \"python\"\n[[client]]\nname = \"x\"\nkind = \"http\"\nfunctions = [\"x.get\"]\ndefault = \"soon\"\nfix = \"\"\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("default = \"soon\""), "{e}");
        let e = k
            .add("bad.toml", "language = \"python\"\nclinet = 1\n")
            .unwrap_err();
        assert!(e.to_string().contains("clinet"), "{e}");
    }

    #[test]
    fn new_keys_are_checked_when_loaded() {
        let mut k = Knowledge::default();
        let e = k
            .add(
                "bad.toml",
                "language = \"typescript\"\n[[global_timeout_setter]]\ncallee = [\"x.set\"]\nbounds = [\"fetch\"]\nrequires = { constructors = [\"x.Agent\"], keys = [\"t\"], unit = \"minutes\" }\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("unit = \"minutes\""), "{e}");
        let e = k
            .add(
                "bad.toml",
                "language = \"python\"\n[[timeout_type]]\ncallee = [\"x.Config\"]\nbounding = [\"read\"]\ndefault = \"a while\"\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("default = \"a while\""), "{e}");
        let e = k
            .add(
                "bad.toml",
                "language = \"rust\"\n[[client]]\nname = \"q\"\nkind = \"db\"\nfunctions = [\"q::run\"]\nstatements = [\"q::query\"]\ndefault = \"none\"\nfix = \"\"\n",
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("statements need constructors"),
            "{e}"
        );
    }

    #[test]
    fn a_wildcard_client_has_every_method_but_its_local_ones() {
        let k = Knowledge::builtin();
        let boto = k.python.clients.iter().find(|c| c.name == "boto3").unwrap();
        assert!(boto.has_method("get_object"));
        assert!(!boto.has_method("generate_presigned_url"));
        // A derive method hands on the client; it is no API call itself.
        assert!(!boto.has_method("client"));
        let redis = k
            .python
            .clients
            .iter()
            .find(|c| c.name == "redis-py")
            .unwrap();
        assert!(redis.has_method("get") && !redis.has_method("pipeline"));
    }

    #[test]
    fn defaults_parse() {
        assert_eq!(parse_default("none"), Some(None));
        assert_eq!(parse_default("5s"), Some(Some(5.0)));
        assert_eq!(parse_default("300s"), Some(Some(300.0)));
        assert_eq!(parse_default("10m"), Some(Some(600.0)));
        assert_eq!(parse_default("soon"), None);
    }

    #[test]
    fn globs_match_prefixes() {
        assert!(path_matches("requests.api.*", "requests.api.get"));
        assert!(!path_matches("requests.get", "requests.getx"));
    }

    #[test]
    fn inner_globs_match_any_run() {
        assert!(path_matches("stripe.*.create", "stripe.Customer.create"));
        assert!(path_matches(
            "stripe.*.create",
            "stripe.checkout.Session.create"
        ));
        assert!(!path_matches("stripe.*.create", "stripe.Customer.create_x"));
        assert!(!path_matches("stripe.*.create", "stripe.create"));
        assert!(path_matches(
            "sqlx::*PgPool::*",
            "sqlx::postgres::PgPool::connect"
        ));
        assert!(!path_matches(
            "sqlx::*PgPool::*",
            "sqlx::SqlitePool::connect"
        ));
    }
}
