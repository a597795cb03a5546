//! A test harness for servers built with these patterns (feature
//! `harness`): [`upstream`], a fault-injecting HTTP upstream on 127.0.0.1,
//! and [`driver`], an MCP client over stdio that launches a server and
//! records each tool call.

pub mod driver;
pub mod upstream;

pub use driver::{CallOutcome, CallRecord, Driver, DriverError, ServerCommand, ToolInfo};
pub use upstream::{Mode, RouteStats, Upstream, UpstreamBuilder, LEAK_MARKERS};
