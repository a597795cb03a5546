//! The scenarios: each sets a fault on the upstream, drives one server
//! through it, and says whether the server showed the failure its rule
//! names. `verify/README.md` has the table these implement.

use std::time::Duration;

use futures_util::future::join_all;
use mcp_audit_runtime::harness::{CallRecord, Driver, Mode, ServerCommand, Upstream, LEAK_MARKERS};
use serde_json::{json, Value};

use super::case::{Params, ScenarioKind, Variant};

/// How long a server may take to start and answer `initialize` (tsx
/// compiles, Python imports the SDK; a loaded CI machine is slow).
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(90);
/// The deadline of calls whose time is not what is measured.
const CALL_DEADLINE: Duration = Duration::from_secs(30);
/// How long the upstream keeps a request hanging at most.
pub const HANG_CAP: Duration = Duration::from_secs(60);
/// The pause that lets background calls reach the server before the probe.
const SETTLE: Duration = Duration::from_millis(500);

/// What one server did under the fault.
#[derive(Clone, Debug)]
pub struct Observation {
    /// Whether it showed the failure.
    pub failed: bool,
    /// What was measured, in words.
    pub detail: String,
}

/// Runs `params`' scenario against a server started by `cmd`, with a fresh
/// upstream. An error means the scenario could not be run (the server did
/// not start, lacks a tool, or failed the healthy control call), which is
/// neither a pass nor a failure.
pub async fn observe(
    params: &Params,
    variant: Variant,
    cmd: ServerCommand,
) -> Result<Observation, String> {
    let mut builder = Upstream::builder().hang_cap(HANG_CAP);
    if let Some(r) = &params.auth_route {
        builder = builder.auth_route(r.clone());
    }
    let up = builder
        .start()
        .await
        .map_err(|e| format!("cannot start the upstream: {e}"))?;
    let mut cmd = cmd.env("UPSTREAM_URL", format!("http://{}", up.addr()));
    for (name, route) in &params.env {
        cmd = cmd.env(name, up.url(route));
    }
    let driver = Driver::launch(cmd, LAUNCH_TIMEOUT)
        .await
        .map_err(|e| format!("the server did not start: {e}"))?;
    let result = run(params, variant, &up, &driver).await;
    up.release_hangs();
    let stderr = driver.stderr();
    driver.shutdown().await;
    up.shutdown().await;
    result.map_err(|e| {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        if tail.is_empty() {
            e
        } else {
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("{e}\n  server stderr:\n    {}", tail.join("\n    "))
        }
    })
}

fn need<T: Clone>(p: &Params, v: &Option<T>, name: &'static str) -> Result<T, String> {
    p.need(v, name)
        .map_err(|m| format!("verify.toml: scenario {:?} needs `{}`", p.scenario, m.0))
}

fn ms(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A call that must answer, without an error, while the upstream is healthy.
async fn control(driver: &Driver, tool: &str, args: &Value) -> Result<CallRecord, String> {
    let r = call(driver, tool, args, CALL_DEADLINE).await?;
    if r.timed_out() {
        return Err(format!(
            "control call of `{tool}` with the upstream healthy got no answer within {}",
            ms(CALL_DEADLINE)
        ));
    }
    if r.is_error {
        return Err(format!(
            "control call of `{tool}` with the upstream healthy failed: {}",
            short(&r.text)
        ));
    }
    Ok(r)
}

async fn call(
    driver: &Driver,
    tool: &str,
    args: &Value,
    deadline: Duration,
) -> Result<CallRecord, String> {
    driver
        .call_tool(tool, args.clone(), deadline)
        .await
        .map_err(|e| format!("calling `{tool}`: {e}"))
}

fn short(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        format!("{}…", one.chars().take(120).collect::<String>())
    } else {
        one
    }
}

fn answered(r: &CallRecord) -> String {
    if r.is_error {
        format!(
            "answered in {} (an error: {})",
            ms(r.latency),
            short(&r.text)
        )
    } else {
        format!("answered in {}", ms(r.latency))
    }
}

async fn check_tools(driver: &Driver, names: &[&str]) -> Result<Vec<Value>, String> {
    let tools = driver
        .list_tools(CALL_DEADLINE)
        .await
        .map_err(|e| format!("tools/list: {e}"))?;
    for n in names {
        if !tools.iter().any(|t| t.name == *n) {
            let have: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "the server has no tool `{n}`; it lists: {}",
                have.join(", ")
            ));
        }
    }
    Ok(tools.into_iter().map(|t| t.raw).collect())
}

async fn run(
    p: &Params,
    variant: Variant,
    up: &Upstream,
    driver: &Driver,
) -> Result<Observation, String> {
    let args = p.arguments_for(variant);
    let tool = p.tool.as_str();
    match p.scenario {
        ScenarioKind::Hang => {
            let route = need(p, &p.route, "route")?;
            let budget = Duration::from_millis(need(p, &p.budget_ms, "budget_ms")?);
            check_tools(driver, &[tool]).await?;
            control(driver, tool, &args).await?;
            up.set_mode(&route, Mode::Hang);
            let r = call(driver, tool, &args, budget * 3).await?;
            let failed = r.timed_out() || r.latency > budget * 3;
            let detail = if r.timed_out() {
                format!(
                    "no answer within {} (3 × its {} budget) while {route} hangs",
                    ms(budget * 3),
                    ms(budget)
                )
            } else {
                format!("{} while {route} hangs", answered(&r))
            };
            Ok(Observation { failed, detail })
        }
        ScenarioKind::RetryStorm => {
            let route = need(p, &p.route, "route")?;
            let calls = need(p, &p.calls, "calls")?;
            let window = Duration::from_millis(need(p, &p.window_ms, "window_ms")?);
            check_tools(driver, &[tool]).await?;
            control(driver, tool, &args).await?;
            up.reset_stats();
            up.set_mode(&route, Mode::Status(503));
            // One call at a time, so each request belongs to the call in
            // flight: a retry's wait is the gap since its call's previous
            // request, whatever the machine's speed.
            let (mut retries, mut immediate, mut seen) = (0usize, 0usize, 0usize);
            for _ in 0..calls {
                call(driver, tool, &args, CALL_DEADLINE).await?;
                let arrivals = up.arrivals(&route);
                let mine = &arrivals[seen.min(arrivals.len())..];
                seen = arrivals.len();
                for pair in mine.windows(2) {
                    retries += 1;
                    if pair[1].saturating_sub(pair[0]) < window {
                        immediate += 1;
                    }
                }
            }
            let hits = seen;
            Ok(Observation {
                // A storm: most retries go out at once, with no wait.
                failed: retries > 0 && immediate * 2 > retries,
                detail: format!(
                    "{calls} calls against a 503: {hits} upstream hits; {immediate} of {retries} \
                     retries went out within {} ms of the failure before",
                    window.as_millis()
                ),
            })
        }
        ScenarioKind::NoBreaker => {
            let route = need(p, &p.route, "route")?;
            let calls = need(p, &p.calls, "calls")?;
            check_tools(driver, &[tool]).await?;
            control(driver, tool, &args).await?;
            up.reset_stats();
            up.set_mode(&route, Mode::Status(503));
            for _ in 0..calls {
                call(driver, tool, &args, CALL_DEADLINE).await?;
            }
            let hits = up.requests(&route);
            Ok(Observation {
                failed: hits >= u64::from(calls),
                detail: format!("{calls} calls while {route} is down reached it {hits} times"),
            })
        }
        ScenarioKind::BreakerCrossTrip => {
            let route = need(p, &p.route, "route")?;
            let trips = need(p, &p.trip_calls, "trip_calls")?;
            let other = need(p, &p.other_tool, "other_tool")?;
            let other_route = need(p, &p.other_route, "other_route")?;
            let other_args = Value::Object(p.other_arguments.clone());
            check_tools(driver, &[tool, &other]).await?;
            control(driver, tool, &args).await?;
            control(driver, &other, &other_args).await?;
            up.set_mode(&route, Mode::Status(503));
            for _ in 0..trips {
                call(driver, tool, &args, CALL_DEADLINE).await?;
            }
            up.reset_stats();
            let r = call(driver, &other, &other_args, CALL_DEADLINE).await?;
            let hits = up.requests(&other_route);
            let failed = r.is_error || hits == 0;
            let detail = if failed {
                format!(
                    "after {trips} failures of {route}, `{other}` failed with {other_route} \
                     healthy ({other_route} saw {hits} requests): {}",
                    short(&r.text)
                )
            } else {
                format!("after {trips} failures of {route}, `{other}` still reached {other_route}")
            };
            Ok(Observation { failed, detail })
        }
        ScenarioKind::PoolWait => {
            let route = need(p, &p.route, "route")?;
            let budget = Duration::from_millis(need(p, &p.budget_ms, "budget_ms")?);
            let hold_tool = need(p, &p.hold_tool, "hold_tool")?;
            let hold_route = need(p, &p.hold_route, "hold_route")?;
            let hold = Duration::from_millis(need(p, &p.hold_ms, "hold_ms")?);
            let holds = need(p, &p.hold_calls, "hold_calls")?;
            let hold_args = Value::Object(p.hold_arguments.clone());
            check_tools(driver, &[tool, &hold_tool]).await?;
            control(driver, tool, &args).await?;
            let _ = route;
            up.set_mode(&hold_route, Mode::Slow(hold));
            let background = join_all(
                (0..holds).map(|_| call(driver, &hold_tool, &hold_args, hold + CALL_DEADLINE)),
            );
            let probe = async {
                tokio::time::sleep(SETTLE).await;
                let r = call(driver, tool, &args, budget * 3).await;
                up.release_hangs();
                r
            };
            let (_, r) = tokio::join!(background, probe);
            let r = r?;
            let failed = r.timed_out() || r.latency > budget * 3;
            let detail = if r.timed_out() {
                format!(
                    "with {holds} slow calls holding connections, `{tool}` got no answer within {}",
                    ms(budget * 3)
                )
            } else {
                format!(
                    "with {holds} slow calls holding connections, `{tool}` {}",
                    answered(&r)
                )
            };
            Ok(Observation { failed, detail })
        }
        ScenarioKind::BlockingStall => {
            let budget = Duration::from_millis(need(p, &p.budget_ms, "budget_ms")?);
            let slow_tool = need(p, &p.slow_tool, "slow_tool")?;
            let slow_calls = p.slow_calls.unwrap_or(1);
            let slow_args = Value::Object(p.slow_arguments.clone());
            check_tools(driver, &[tool, &slow_tool]).await?;
            control(driver, tool, &args).await?;
            let slow = Duration::from_millis(p.slow_ms.unwrap_or(3000));
            if let Some(route) = &p.route {
                up.set_mode(route, Mode::Slow(slow));
            }
            let background = join_all(
                (0..slow_calls).map(|_| call(driver, &slow_tool, &slow_args, slow + CALL_DEADLINE)),
            );
            let probe = async {
                tokio::time::sleep(SETTLE).await;
                call(driver, tool, &args, budget * 3).await
            };
            let (_, r) = tokio::join!(background, probe);
            let r = r?;
            let failed = r.timed_out() || r.latency > budget * 3;
            let detail = format!(
                "during {slow_calls} call(s) of `{slow_tool}`, `{tool}` {} (budget {})",
                if r.timed_out() {
                    format!("got no answer within {}", ms(budget * 3))
                } else {
                    answered(&r)
                },
                ms(budget)
            );
            Ok(Observation { failed, detail })
        }
        ScenarioKind::Partial => {
            let route = need(p, &p.route, "route")?;
            let marker = need(p, &p.marker, "marker")?;
            let failing = need(p, &p.failing_route, "failing_route")?;
            check_tools(driver, &[tool]).await?;
            up.set_body(&route, json!({"route": route, "value": marker}));
            let c = control(driver, tool, &args).await?;
            if !c.text.contains(&marker) {
                return Err(format!(
                    "control call: with every source healthy the answer lacks {marker:?}: {}",
                    short(&c.text)
                ));
            }
            up.set_mode(&failing, Mode::Status(503));
            let r = call(driver, tool, &args, CALL_DEADLINE).await?;
            let kept = !r.is_error && r.text.contains(&marker);
            let detail = if kept {
                format!("with {failing} down, the answer still carries {route}'s data")
            } else if r.is_error {
                format!(
                    "with {failing} down, the whole call failed: {}",
                    short(&r.text)
                )
            } else {
                format!(
                    "with {failing} down, the answer lost {route}'s data: {}",
                    short(&r.text)
                )
            };
            Ok(Observation {
                failed: !kept,
                detail,
            })
        }
        ScenarioKind::FanOut => {
            let route = need(p, &p.route, "route")?;
            let items_arg = need(p, &p.items_arg, "items_arg")?;
            let items = need(p, &p.items, "items")?;
            let limit = need(p, &p.limit, "limit")?;
            let slow = Duration::from_millis(p.slow_ms.unwrap_or(300));
            check_tools(driver, &[tool]).await?;
            let mut args = args;
            args[&items_arg] =
                Value::Array((0..items).map(|i| json!(format!("item-{i}"))).collect());
            up.set_mode(&route, Mode::Slow(slow));
            let r = call(driver, tool, &args, CALL_DEADLINE * 2).await?;
            let s = up.stats(&route);
            if r.timed_out() {
                return Err(format!("`{tool}` over {items} items got no answer"));
            }
            Ok(Observation {
                failed: s.max_in_flight > limit,
                detail: format!(
                    "{items} items: {} upstream requests, at most {} at once (limit {limit})",
                    s.requests, s.max_in_flight
                ),
            })
        }
        ScenarioKind::AuthDown => {
            let auth = need(p, &p.auth_route, "auth_route")?;
            let secret = need(p, &p.secret, "secret")?;
            check_tools(driver, &[tool]).await?;
            up.set_body(&auth, json!({"allowed": true}));
            let c = control(driver, tool, &args).await?;
            if !c.text.contains(&secret) {
                return Err(format!(
                    "control call: with the auth service allowing, the answer lacks the \
                     document: {}",
                    short(&c.text)
                ));
            }
            up.auth_down();
            let r = call(driver, tool, &args, CALL_DEADLINE).await?;
            let granted = r.text.contains(&secret);
            Ok(Observation {
                failed: granted,
                detail: if granted {
                    format!("with {auth} down, the document was served")
                } else {
                    format!("with {auth} down, access was refused: {}", short(&r.text))
                },
            })
        }
        ScenarioKind::Leak => {
            let route = need(p, &p.route, "route")?;
            let mode: Mode = need(p, &p.mode, "mode")?
                .parse()
                .map_err(|e| format!("verify.toml: {e}"))?;
            check_tools(driver, &[tool]).await?;
            control(driver, tool, &args).await?;
            up.set_mode(&route, mode);
            let r = call(driver, tool, &args, CALL_DEADLINE).await?;
            let leaked: Vec<&str> = LEAK_MARKERS
                .iter()
                .copied()
                .chain(["127.0.0.1"])
                .filter(|m| r.text.contains(m))
                .collect();
            Ok(Observation {
                failed: !leaked.is_empty(),
                detail: if leaked.is_empty() {
                    format!(
                        "with {route} failing ({mode}), the answer was: {}",
                        short(&r.text)
                    )
                } else {
                    format!(
                        "with {route} failing ({mode}), the answer carried {}",
                        leaked
                            .iter()
                            .map(|m| format!("{m:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            })
        }
        ScenarioKind::DoubleMutation => {
            let route = need(p, &p.route, "route")?;
            check_tools(driver, &[tool]).await?;
            control(driver, tool, &args).await?;
            if up.mutations(&route) == 0 {
                return Err(format!("`{tool}` sent no mutation to {route}"));
            }
            up.reset_stats();
            // The orchestrator retries the intent: the same call, twice.
            call(driver, tool, &args, CALL_DEADLINE).await?;
            call(driver, tool, &args, CALL_DEADLINE).await?;
            let s = up.stats(&route);
            Ok(Observation {
                failed: s.distinct_mutations >= 2,
                detail: format!(
                    "one intent sent twice: {} mutations reached {route}, {} applied",
                    s.mutations, s.distinct_mutations
                ),
            })
        }
        ScenarioKind::ReadOnlyMutates => {
            let route = need(p, &p.route, "route")?;
            let tools = check_tools(driver, &[tool]).await?;
            let declared = tools
                .iter()
                .find(|t| t["name"] == tool)
                .and_then(|t| t["annotations"]["readOnlyHint"].as_bool())
                .unwrap_or(false);
            up.reset_stats();
            control(driver, tool, &args).await?;
            let s = up.stats(&route);
            Ok(Observation {
                failed: declared && s.mutations > 0,
                detail: format!(
                    "declared {}; one call sent {} mutation(s) to {route}",
                    if declared {
                        "readOnlyHint: true"
                    } else {
                        "not read-only"
                    },
                    s.mutations
                ),
            })
        }
    }
}
