"""Weather MCP server (FastMCP): forecast, alerts and air quality.

A small but realistic example for mcp-audit. It has the gaps the tool looks
for next to their fixed forms; `mcp-audit examples/python-weather` shows them.
"""

import asyncio
import os

import httpx
import requests
from mcp.server.fastmcp import FastMCP

API = os.environ.get("WEATHER_API", "https://api.weather.gov")
AIR_API = "https://api.openaq.org/v3"
USER_AGENT = "weather-mcp/1.0"

mcp = FastMCP("weather")

# Bounded: httpx applies its 5 s default unless told otherwise.
http = httpx.AsyncClient(base_url=API, headers={"User-Agent": USER_AGENT})
# Unbounded: somebody turned the default off "to fix slow responses".
slow_http = httpx.AsyncClient(base_url=API, timeout=None)


async def get_json(path: str) -> dict:
    r = await http.get(path)
    r.raise_for_status()
    return r.json()


@mcp.tool()
async def forecast(latitude: float, longitude: float) -> str:
    """Forecast for a location."""
    points = await get_json(f"/points/{latitude},{longitude}")
    r = await slow_http.get(points["properties"]["forecast"])
    periods = r.json()["properties"]["periods"][:5]
    return "\n".join(f"{p['name']}: {p['detailedForecast']}" for p in periods)


@mcp.tool()
async def alerts(state: str) -> str:
    """Active alerts for a US state."""
    data = await asyncio.wait_for(get_json(f"/alerts/active/area/{state}"), timeout=10)
    return "\n".join(f["properties"]["headline"] for f in data["features"])


@mcp.tool()
def air_quality(city: str) -> str:
    """Air quality for a city (blocking client, no timeout)."""
    r = requests.get(f"{AIR_API}/locations", params={"city": city})
    return r.text


@mcp.tool()
def air_quality_bounded(city: str) -> str:
    """The same call, bounded."""
    r = requests.get(f"{AIR_API}/locations", params={"city": city}, timeout=(3.05, 10))
    return r.text


if __name__ == "__main__":
    mcp.run()
