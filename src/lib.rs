//! mcp-audit: audits MCP server source code for resilience and security gaps.

pub mod facts;
pub mod lang;
