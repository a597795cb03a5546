//! Status-page MCP server (rmcp): checks services over HTTP.
//! A small but realistic example for mcp-audit.
use std::time::Duration;

use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, Content, ServerInfo};
use rmcp::{tool, tool_handler, tool_router, ErrorData as McpError, ServerHandler, ServiceExt};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct Target {
    /// The URL to check.
    pub url: String,
}

#[derive(Clone)]
pub struct Status {
    http: reqwest::Client,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Status {
    pub fn new() -> Self {
        Self {
            // No timeout: reqwest waits forever by default.
            http: reqwest::Client::new(),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "HTTP status of a URL")]
    async fn check(&self, Parameters(t): Parameters<Target>) -> Result<CallToolResult, McpError> {
        let resp = self
            .http
            .get(&t.url)
            .send()
            .await
            .map_err(|e| McpError::internal_error(format!("request failed: {e}"), None))?;
        Ok(CallToolResult::success(vec![Content::text(resp.status().to_string())]))
    }

    #[tool(description = "HTTP status of a URL, with a deadline")]
    async fn check_bounded(&self, Parameters(t): Parameters<Target>) -> Result<CallToolResult, McpError> {
        let resp = tokio::time::timeout(Duration::from_secs(5), self.http.get(&t.url).send())
            .await
            .map_err(|_| McpError::internal_error("timed out", None))?
            .map_err(|_| McpError::internal_error("request failed", None))?;
        Ok(CallToolResult::success(vec![Content::text(resp.status().to_string())]))
    }
}

#[tool_handler]
impl ServerHandler for Status {
    fn get_info(&self) -> ServerInfo {
        ServerInfo::default()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let service = Status::new().serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    Ok(())
}
