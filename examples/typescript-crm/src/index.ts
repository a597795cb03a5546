// CRM MCP server (@modelcontextprotocol/sdk): contacts, deals and notes.
// A small but realistic example for mcp-audit.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import axios from "axios";
import { z } from "zod";

const CRM = process.env.CRM_URL ?? "https://crm.example.com/api";

const crm = axios.create({
  baseURL: CRM,
  timeout: 8_000,
  headers: { Authorization: `Bearer ${process.env.CRM_TOKEN}` },
});

const server = new McpServer({ name: "crm", version: "1.2.0" });

server.registerTool(
  "get_contact",
  { description: "Look up a contact", inputSchema: { id: z.string() } },
  async ({ id }) => {
    const r = await crm.get(`/contacts/${id}`);
    return { content: [{ type: "text", text: JSON.stringify(r.data) }] };
  },
);

server.registerTool(
  "enrich_company",
  { description: "Company details from the enrichment service", inputSchema: { domain: z.string() } },
  async ({ domain }) => {
    // No signal: Node's fetch waits up to 300 s for headers.
    const r = await fetch(`https://enrich.example.com/v1/companies/${domain}`);
    return { content: [{ type: "text", text: await r.text() }] };
  },
);

server.registerTool(
  "list_deals",
  { description: "Open deals for an account", inputSchema: { account: z.string() } },
  async ({ account }, extra) => {
    // Bounded by the MCP request's own cancellation signal.
    const r = await fetch(`${CRM}/deals?account=${account}`, { signal: extra.signal });
    return { content: [{ type: "text", text: await r.text() }] };
  },
);

const transport = new StdioServerTransport();
await server.connect(transport);
