"""Drives `fuckbigtech mcp` with the official MCP Python SDK's stdio client, as an agent would.

Usage: python mcp_client.py BINARY VAULT SCENARIO [--agent NAME]
  SCENARIO "tools":   list the tools, call every one, and try the guarded writes
  SCENARIO "private": read and search a private note (the server is started with --agent)

Prints one JSON object with what it saw; the Swift test (MCPEndToEndTests) judges it. Works with
the 1.x SDK (initialize handshake, ClientSession) and the 2.x one (Client, which probes
server/discover and speaks 2026-07-28).
"""

import asyncio
import json
import sys

import mcp
from mcp import StdioServerParameters


def result_of(result):
    """The parts of a CallToolResult the test looks at, the same for both SDK versions."""
    text = "".join(getattr(block, "text", "") for block in result.content)
    return {"is_error": bool(result.isError if hasattr(result, "isError") else result.is_error),
            "text": text,
            "structured": getattr(result, "structuredContent", None) if hasattr(result, "structuredContent") else getattr(result, "structured_content", None)}


async def scenario_tools(call, list_tools, seen):
    tools = await list_tools()
    seen["tools"] = [{"name": t.name,
                      "read_only": (t.annotations.readOnlyHint if hasattr(t.annotations, "readOnlyHint") else t.annotations.read_only_hint),
                      "has_schema": bool(t.inputSchema if hasattr(t, "inputSchema") else t.input_schema)} for t in tools]
    calls = seen["calls"] = {}
    calls["create_task"] = await call("create_task", {"prompt": "summarise the meeting notes", "title": "Summarise notes"})
    calls["write_note"] = await call("write_note", {"path": "Memory/Plan.md", "text": "# Plan\n\nThe zeppelin launch is on Friday.\n", "create": True})
    calls["search"] = await call("search", {"query": "zeppelin"})
    calls["read_note"] = await call("read_note", {"path": "Memory/Plan.md"})
    read_hash = calls["read_note"]["structured"]["hash"]
    calls["set_properties"] = await call("set_properties", {"path": "Memory/Plan.md", "set": {"owner": "ops"}, "expect_hash": read_hash})
    # The note changed since read_hash: a whole-text write naming it must be refused and kept.
    calls["stale_write"] = await call("write_note", {"path": "Memory/Plan.md", "text": "# Plan\n\nOverwritten.\n", "expect_hash": read_hash})
    # With the task's hash as read: the refusals are the guardrail's, not a missing hash's.
    task_hash = (await call("read_note", {"path": "Tasks/Summarise notes.md"}))["structured"]["hash"]
    calls["approve"] = await call("set_properties", {"path": "Tasks/Summarise notes.md", "set": {"approved": True}, "expect_hash": task_hash})
    calls["status_change"] = await call("set_properties", {"path": "Tasks/Summarise notes.md", "set": {"status": "done"}, "expect_hash": task_hash})
    calls["blind_set"] = await call("set_properties", {"path": "Memory/Plan.md", "set": {"owner": "claude"}})
    calls["secret"] = await call("write_note", {"path": "Memory/Keys.md", "create": True,
                                                "text": "token: ghp_" + "Xq9fT2mLk8vR4wZp1sN7bY3cJ6hD0aEuGi5o" + "\n"})
    calls["escape"] = await call("read_note", {"path": "../outside.md"})
    calls["handoff"] = await call("handoff", {"from": "echo", "to": "echo", "message": "carry on with the plan"})
    calls["route"] = await call("route", {"text": "summarise the plan"})
    calls["context"] = await call("context", {"path": "Tasks/Summarise notes.md"})
    calls["status"] = await call("status", {})
    calls["backlinks"] = await call("backlinks", {"note": "Plan"})
    calls["recent"] = await call("recent", {"limit": 5})


async def scenario_private(call, list_tools, seen):
    calls = seen["calls"] = {}
    calls["read_private"] = await call("read_note", {"path": "Memory/Diary.md"})
    calls["search_private"] = await call("search", {"query": "marmalade"})
    calls["read_public"] = await call("read_note", {"path": "Memory/Public.md"})


async def main():
    binary, vault, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
    args = ["mcp", "--vault", vault] + sys.argv[4:]
    params = StdioServerParameters(command=binary, args=args, env={"PATH": "/usr/bin:/bin", "HOME": vault + "/..", "NO_COLOR": "1"})
    run = scenario_tools if scenario == "tools" else scenario_private
    seen = {"sdk": getattr(mcp, "__version__", None)}
    if hasattr(mcp, "Client"):
        # The 2.x SDK: Client probes server/discover and adopts the stateless revision.
        async with mcp.Client(params) as client:
            seen["protocol_version"] = client.protocol_version

            async def call(name, arguments):
                return result_of(await client.call_tool(name, arguments))

            async def list_tools():
                return (await client.list_tools()).tools

            await run(call, list_tools, seen)
    else:
        from mcp.client.stdio import stdio_client
        async with stdio_client(params) as (read, write):
            async with mcp.ClientSession(read, write) as session:
                initialized = await session.initialize()
                seen["protocol_version"] = initialized.protocolVersion

                async def call(name, arguments):
                    return result_of(await session.call_tool(name, arguments))

                async def list_tools():
                    return (await session.list_tools()).tools

                await run(call, list_tools, seen)
    print(json.dumps(seen))


asyncio.run(main())
