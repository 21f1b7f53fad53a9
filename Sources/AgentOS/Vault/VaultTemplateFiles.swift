// Generated from vault-template/ and rules/ by `FBT_REGENERATE_TEMPLATE=1 swift test --filter TemplateSyncTests`.
// Do not edit: edit the folders and regenerate; a test fails when this file and the folders differ.

/// The vault template and default rules, compiled into the binary.
enum VaultTemplateFiles {
    /// Every file, vault-template/ first, then rules/ (as Rules/), each sorted by path.
    static let all: [TemplateFile] = [
        TemplateFile(path: ".obsidian/app.json", contents: #"""
{
  "alwaysUpdateLinks": true
}

"""#),
        TemplateFile(path: ".obsidian/daily-notes.json", contents: #"""
{
  "folder": "Daily",
  "format": "YYYY-MM-DD",
  "template": "Templates/Daily"
}

"""#),
        TemplateFile(path: ".obsidian/templates.json", contents: #"""
{
  "folder": "Templates"
}

"""#),
        TemplateFile(path: ".obsidian/types.json", contents: #"""
{
  "types": {
    "aliases": "aliases",
    "cssclasses": "multitext",
    "tags": "tags",
    "type": "text",
    "status": "text",
    "lane": "text",
    "agent": "text",
    "model": "text",
    "privacy": "text",
    "effects": "multitext",
    "budget_usd": "number",
    "budget_overrun_usd": "number",
    "timeout": "number",
    "context": "multitext",
    "approved": "checkbox",
    "route_lane": "text",
    "route_agent": "text",
    "route_rule": "text",
    "route_reason": "text",
    "run_id": "text",
    "attempts": "number",
    "started": "datetime",
    "finished": "datetime",
    "duration_s": "number",
    "cost_usd": "number",
    "tokens_in": "number",
    "tokens_out": "number",
    "result": "text",
    "error": "text",
    "task": "text",
    "rule": "text",
    "exit_code": "number",
    "sources": "multitext",
    "from": "text",
    "to": "text",
    "name": "text",
    "command": "multitext",
    "model_args": "multitext",
    "readonly_args": "multitext",
    "approved_args": "multitext",
    "budget_args": "multitext",
    "mcp": "checkbox",
    "mcp_args": "multitext",
    "output": "text",
    "endpoint": "text",
    "stream": "checkbox",
    "api_key_env": "text",
    "qmd": "text",
    "qmd_collection": "text",
    "price_in_per_mtok": "number",
    "price_out_per_mtok": "number",
    "max_cost_usd": "number",
    "env": "multitext",
    "context_tokens": "number",
    "concurrency": "number",
    "truncate": "text",
    "context_truncated": "checkbox",
    "context_tokens_sent": "number",
    "context_tokens_left_out": "number",
    "priority": "number",
    "when_type": "multitext",
    "when_tags": "multitext",
    "when_folder": "multitext",
    "when_keywords": "multitext",
    "when_privacy": "text",
    "when_effects": "multitext",
    "when_max_chars": "number",
    "when_min_chars": "number",
    "fallback": "text",
    "allow_effects": "multitext",
    "budget_task_usd": "number",
    "max_handoffs": "number",
    "max_spawned_tasks": "number",
    "budget_day_usd": "number",
    "budget_month_usd": "number",
    "budget_premium_day_usd": "number",
    "budget_premium_month_usd": "number",
    "private_tags": "multitext",
    "private_folders": "multitext",
    "secret_patterns": "multitext",
    "secret_action": "text",
    "review_effects": "multitext",
    "default_lane": "text",
    "default_agent": "text",
    "date": "date",
    "created": "datetime",
    "approved_by": "text",
    "approved_at": "datetime",
    "route_verdicts": "multitext",
    "handoffs": "multitext",
    "handoff": "text",
    "expected_hash": "text",
    "found_hash": "text",
    "note": "text",
    "mode": "text",
    "notes": "number",
    "queries": "number",
    "recall_at_5": "number",
    "mrr": "number",
    "latency_p50_ms": "number",
    "latency_p95_ms": "number",
    "failures": "multitext",
    "retries": "number",
    "project_roots": "multitext",
    "memory_exclude": "multitext",
    "project": "text",
    "description": "text",
    "compatibility": "text",
    "cost_source": "text",
    "files": "multitext",
    "verdict": "text",
    "since": "date",
    "runs": "number",
    "savings_usd": "number",
    "failover": "multitext",
    "failover_premium": "multitext",
    "failure": "text",
    "failure_reset": "datetime",
    "failovers": "multitext",
    "failover_note": "text",
    "failover_of": "text",
    "failover_chain": "multitext",
    "failover_tried": "multitext",
    "failover_to": "text",
    "context_retry": "checkbox",
    "machine": "text",
    "state": "text",
    "updated": "datetime",
    "updated_epoch": "number",
    "serves": "text",
    "running": "multitext",
    "version": "text",
    "copy": "text",
    "sync_tool": "text",
    "lanes": "multitext",
    "agents": "multitext",
    "sync": "text",
    "remote": "text"
  }
}

"""#),
        TemplateFile(path: "Daily/README.md", contents: #"""
---
type: readme
---
# Daily

Daily logs named `YYYY-MM-DD.md`, as Obsidian's Daily notes plugin names them. People write here;
the OS appends a line per finished run. The most recent log goes into every context packet.

"""#),
        TemplateFile(path: "Handoffs/README.md", contents: #"""
---
type: readme
---
# Handoffs

One agent (or person) hands work to another here. Start from the **Handoff** template: `from`,
`to` (the agent that takes over), `task` (a link), `status`, and `context` (links). In the body
write what was done, what is left, the decisions taken and the open questions.

The OS runs `to` with a bounded context packet (this note, the linked notes, the best matches from
memory and the recent daily log, each labelled with its source) and links the result back.

"""#),
        TemplateFile(path: "Memory/README.md", contents: #"""
---
type: readme
---
# Memory

Durable memory that agents and people share: project state, decisions, facts worth keeping. Keep
one subject per note and link generously; full-text search ranks these notes for context packets
and points back to the exact file and line.

"""#),
        TemplateFile(path: "Private/README.md", contents: #"""
---
type: readme
---
# Private

Nothing in this folder ever reaches a non-local lane: a task under it, or a task whose context
includes a note from it, only runs on a local agent. Tag a note `private` elsewhere for the same effect.

"""#),
        TemplateFile(path: "Results/README.md", contents: #"""
---
type: readme
---
# Results

Written by the OS: one note per run, `type: result`, with the task, agent, model, lane, rule,
status, times, cost, tokens, exit code and the sources the agent was given. The body is the
agent's answer, or the error and the tail of its stderr. Read them; there is no need to edit them.

"""#),
        TemplateFile(path: "Rules/README.md", contents: #"""
---
type: readme
---
# Rules

How work is routed and what it may cost, all as notes you can read and change:

- `Guardrails.md` (`type: guardrails`): budgets, private tags and folders, secret patterns,
  which effects need review, the default lane and agent.
- `Agents/` (`type: agent`): one note per agent CLI: its lane, argv `command`, output format,
  prices and timeout. Only these notes name commands; a task picks an agent by name.
- `Routing/` (`type: rule`): conditions and an outcome lane; the lowest `priority` that matches
  wins. An explicit `lane` or `agent` on a task wins over rules; guardrails win over everything.
- `Routing Cases.md` (`type: rule-cases`): prompts and the lane each should get, for memory tests.

Run `fuckbigtech doctor` after an edit: it checks that every note here parses and is complete.

"""#),
        TemplateFile(path: "Skills/fuckbigtech/SKILL.md", contents: #"""
---
name: fuckbigtech
description: Use the fuckbigtech agent OS (an Obsidian vault of Markdown notes) as shared memory and task queue. Use when you need to look something up in the team's notes, read or change a note, record a decision, create a task for another agent, or hand your work off. Explains the MCP tools (search, read_note, write_note, set_properties, create_task, handoff, route, context, status, backlinks, recent) and the fuckbigtech CLI fallback, and what an agent must never do.
compatibility: Needs the fuckbigtech binary (MCP server 'fuckbigtech' or the CLI on PATH) and a vault.
---

# Using the fuckbigtech agent OS

The vault is a folder of Markdown notes with YAML properties. It is the shared memory of every
agent and person working here: what was decided, what is being done, and by whom. Work is
queued as task notes in `Tasks/`; a watcher routes each one to an agent and writes a result note.

Use the **MCP tools** of the server named `fuckbigtech` when your harness lists them. Otherwise use
the **CLI** (`fuckbigtech`, with `--vault PATH` unless `$FBT_VAULT` is set). They run the same code.

## Find things before you write

| need | MCP tool | CLI |
|---|---|---|
| notes about a topic | `search` (query, limit, type/tag/folder filters) | `fuckbigtech search "login timeout" --json` |
| one note, with its hash | `read_note` (path) | `fuckbigtech note show Memory/Auth.md --json` |
| what links to a note | `backlinks` | `fuckbigtech backlinks Memory/Auth.md` |
| what changed lately | `recent` | `fuckbigtech status` |
| everything a task would be given | `context` (note) | `fuckbigtech context Tasks/Fix-login.md` |

Search first: the answer is often already in `Memory/` or an earlier result in `Results/`.

## Change a note safely

Someone else (a person in Obsidian, another agent) may edit the same note while you work.

1. Read it with `read_note` / `note show --json` and keep the `hash` it returns.
2. Write with that hash: `write_note` (path, text, expected hash) or `set_properties` (path,
   properties, expected hash); on the CLI `fuckbigtech note write PATH --expect HASH < new.md` or
   `fuckbigtech note set PATH status=done --expect HASH`.
3. If the write is refused because the note changed, **do not retry blindly**: read it again,
   merge your change into the new text, and write with the new hash. Your refused version is kept
   in `Memory/Conflicts/`, so nothing is lost.

Prefer `set_properties` / `note set` for property changes: it leaves every other byte as it was.
Create a new note with `write_note` without a hash (CLI: `note write PATH --create`).

## Queue work and hand it off

- New work for the OS: `create_task` (prompt, title, agent or lane, `private` for private work) —
  CLI `fuckbigtech task new "Summarise the auth incidents" --title "Auth summary"`.
- Check where it would go first: `route` (a dry run with each guardrail's verdict) —
  CLI `fuckbigtech route Tasks/Auth-summary.md`.
- Pass your work to another agent: `handoff` (message, from, to, task) — CLI
  `fuckbigtech handoff "Tests pass; please review the migration" --from claude --to codex --task Tasks/Migrate.md`.
  Inside your run, a handoff without `task` continues your task, and spends from its budget; a task
  is handed on at most `max_handoffs` times, and the runs of one task may make at most
  `max_spawned_tasks` tasks and handoffs. What you make in a private run is private.
- What is running, queued or waiting for review: `status` — CLI `fuckbigtech status`.

## Never

- **Never approve work** or move a task out of review: do not set `approved`, `approved_by`,
  `approved_at`, or a task's `status` other than through your own run. A person approves.
- **Never edit `Rules/`** (routing rules, agents, guardrails, budgets): ask a person instead.
  `Skills/`, `Templates/` and the OS's records (`Results/`, `Telemetry/`, `Daily/`) are not yours to
  write either, and `.agentos/`, `.obsidian/`, `.git/` and files that are not notes are not yours to
  read: the tools refuse them.
- **Never read or write `Private/`**, and never copy a private note's text anywhere. "No such note,
  or a private one", or a note search does not find, is the guardrail working: do not work around it.
- Never write a secret (API key, token, password) into a note; the write is refused.
- Never edit vault files directly with your file tools when the MCP tools or the CLI can do it:
  direct edits skip the hash check and the guardrails.

"""#),
        TemplateFile(path: "Tasks.base", contents: #"""
filters:
  and:
    - file.ext == "md"
    - '!file.inFolder("Templates")'
    - 'type != "readme"'
    - or:
        - 'type == "task"'
        - file.inFolder("Tasks")
properties:
  route_lane:
    displayName: Routed to
  cost_usd:
    displayName: Cost (USD)
views:
  - type: table
    name: By status
    groupBy:
      property: status
      direction: ASC
    order:
      - file.name
      - status
      - lane
      - agent
      - route_lane
      - route_agent
      - cost_usd
      - started
      - finished
    sort:
      - property: file.mtime
        direction: DESC
  - type: table
    name: Needs a person
    filters:
      or:
        - 'status == "review"'
        - 'status == "blocked"'
        - 'status == "failed"'
    order:
      - file.name
      - status
      - route_reason
      - error
      - approved
    sort:
      - property: status
        direction: ASC
  - type: table
    name: Spend
    filters:
      and:
        - 'cost_usd > 0'
    order:
      - file.name
      - route_agent
      - model
      - tokens_in
      - tokens_out
      - cost_usd
      - finished
    sort:
      - property: finished
        direction: DESC
    summaries:
      cost_usd: Sum

"""#),
        TemplateFile(path: "Tasks/README.md", contents: #"""
---
type: readme
---
# Tasks

Put a task here and an agent picks it up. A task is any note in this folder (at any depth) or any
note with `type: task`; the note's body is the prompt. Start from the **Task** template.

What you may set: `lane`, `agent`, `model`, `privacy`, `effects`, `budget_usd`, `timeout`,
`context` (links to notes the agent should read), `approved`, `tags`. The OS fills in `status`,
`route_*`, `run_id`, times, cost and tokens, and links the `result`.

Lifecycle: `new → routed → running → done | failed | blocked | review`. A task waiting in `review`
runs once you tick `approved`; set `status: new` to run it again, `status: cancelled` to stop it.

This note has `type: readme`, so it is not a task.

"""#),
        TemplateFile(path: "Telemetry/README.md", contents: #"""
---
type: readme
---
# Telemetry

Written by the OS: `YYYY-MM-DD.md` notes with a table of the day's runs (lane, agent, cost,
tokens, duration, outcome) and memory-test reports. The raw event log is `.agentos/telemetry.jsonl`.

"""#),
        TemplateFile(path: "Templates/Daily.md", contents: #"""
---
type: daily
date: "{{date:YYYY-MM-DD}}"
---
# {{date:YYYY-MM-DD}}

## Notes

## Agent runs


"""#),
        TemplateFile(path: "Templates/Handoff.md", contents: #"""
---
type: handoff
status: draft
created: "{{date:YYYY-MM-DD}}T{{time:HH:mm}}"
from:
to:
task:
context: []
tags: []
---
%% Fill in the sections, name the next agent in to, then set status to new. This comment is never sent. %%

## Done

## Left to do

## Decisions

## Open questions

"""#),
        TemplateFile(path: "Templates/README.md", contents: #"""
---
type: readme
---
# Templates

Templates for Obsidian's Templates plugin (its template folder is set to `Templates`):
**Task** for a new task, **Handoff** for passing work on, **Daily** for the daily note (Obsidian's
Daily notes plugin creates `Daily/YYYY-MM-DD.md` from it). Notes here are never run, even though the
Task template says `type: task`.

A note made from the Task or Handoff template starts as `status: draft`: the watcher leaves it alone
while you write. Set `status` to `new` when it is ready, and it runs within moments. The `%% … %%`
comment is Obsidian's own comment syntax: it is never part of the prompt, and a note whose prompt is
still empty (or holds only empty headings) does not run.

"""#),
        TemplateFile(path: "Templates/Task.md", contents: #"""
---
type: task
status: draft
created: "{{date:YYYY-MM-DD}}T{{time:HH:mm}}"
lane:
agent:
model:
privacy:
effects: []
context: []
budget_usd:
timeout:
approved: false
tags: []
---
%% Write the prompt below: what you want done, and what a good answer looks like. Then set status to new — the watcher runs it within moments. This comment is never sent. %%


"""#),
        TemplateFile(path: "Rules/Agents/browser.md", contents: #"""
---
type: agent
name: browser
lane: tool
command: [chromium]
output: browser
price_in_per_mtok: 0
price_out_per_mtok: 0
timeout: 120
---
# Browser

A headless Chromium driven by the OS itself over the Chrome DevTools Protocol (no model, no
cost). For each web address in the task (or `.html` file of the vault it links) it saves a
full-page screenshot next to the result note and embeds it, and writes the page's title, HTTP
status, console errors and text into the result.

It only loads pages: it never clicks, types, logs in or submits. A task that asks for that is an
effect (`submit`, or `payment` for buying) and waits in `review` before any agent runs.

Each run has a fresh profile in a temporary folder (removed after the run) and may reach only the
hosts its task names: other host names do not resolve and other requests go to a proxy that does
not exist. See docs/browser.md for what that does and does not isolate.

Set `command` to the browser to start (`chromium`, `google-chrome`, or a path). To have a question
about the page answered, set `ask_agent` here (or `ask: AGENT` on the task): the run hands what it
saw to that agent with a handoff note, which is routed and guarded like any other.

"""#),
        TemplateFile(path: "Rules/Agents/claude.md", contents: #"""
---
type: agent
name: claude
lane: premium
command: [claude, -p, --output-format, json, --, "{prompt}"]
model_args: [--model, "{model}"]
readonly_args: [--permission-mode, plan]
approved_args: [--permission-mode, acceptEdits]
budget_args: [--max-budget-usd, "{budget}"]
mcp: false
mcp_args: [--mcp-config, "{mcp_config}", --strict-mcp-config]
output: claude-json
model:
price_in_per_mtok: 3.0
price_out_per_mtok: 15.0
max_cost_usd: 1.0
timeout: 900
env: [ANTHROPIC_API_KEY, CLAUDE_CONFIG_DIR]
context_tokens: 16000
---
# Claude Code

Runs `claude -p` headless and reads its one JSON answer (`result`, `is_error`, `total_cost_usd`,
`usage`). Some API errors arrive with exit code 0 and `is_error: true`; the OS always reads it.

Each run is given its own cap with `--max-budget-usd`: `{budget}` is what the run reserved
(`max_cost_usd`, or less when a task or lane cap leaves less). Claude Code checks it between turns,
so a run can end a little above it; the real cost is what the budget ledger counts.

Unless the task is approved it runs in plan mode, which reads but does not edit. Leave `model`
empty to use Claude Code's default, or set one (`sonnet`, `opus`). Prices are USD per million
tokens and only used when the answer carries no cost of its own.

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (the task, result and telemetry then say
`context_truncated`).

Set `mcp: true` to give each run this vault's MCP server (`fuckbigtech mcp --agent claude`, with
the run's id, so it sees only what the run's lane may see and its writes carry the run id): the
run's folder gets a `--mcp-config` file naming it, and `--strict-mcp-config` keeps Claude Code from
also starting the servers of its own configuration.

"""#),
        TemplateFile(path: "Rules/Agents/codex.md", contents: #"""
---
type: agent
name: codex
lane: premium
command: [codex, exec, --json, --skip-git-repo-check, --, "{prompt}"]
model_args: [-m, "{model}"]
readonly_args: [--sandbox, read-only]
approved_args: [--sandbox, workspace-write]
mcp: false
mcp_args: [-c, "mcp_servers.fuckbigtech.command={mcp_command}", -c, "mcp_servers.fuckbigtech.args={mcp_args}", -c, "mcp_servers.fuckbigtech.env={mcp_env}"]
output: codex-jsonl
model:
price_in_per_mtok: 1.25
price_out_per_mtok: 10.0
max_cost_usd: 1.0
timeout: 900
env: [OPENAI_API_KEY, CODEX_HOME]
context_tokens: 16000
---
# Codex CLI

Runs `codex exec --json` and reads its JSONL events; tokens come from `turn.completed`, and a
`turn.failed` or `error` event fails the run whatever the exit code says. Codex reports no dollar
cost, so the cost is worked out from the tokens and the prices here (USD per million tokens).

Unless the task is approved it runs in the read-only sandbox.

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

Set `mcp: true` to give each run this vault's MCP server (`fuckbigtech mcp --agent codex`, with
the run's id, so it sees only what the run's lane may see and its writes carry the run id), through
`-c mcp_servers.fuckbigtech.…` overrides: nothing is written to Codex's own configuration.

"""#),
        TemplateFile(path: "Rules/Agents/echo.md", contents: #"""
---
type: agent
name: echo
lane: local
command: [printf, "%s", "{prompt}"]
output: text
price_in_per_mtok: 0
price_out_per_mtok: 0
timeout: 10
context_tokens: 2000
concurrency: 8
---
# echo

A harmless built-in agent: it answers with the prompt it was given, word for word, and touches
nothing. Use `agent: echo` on a task to watch the whole loop (routing, run, result note, telemetry)
without calling a model.

It does no work of its own, so up to 8 of its runs go at once (`concurrency: 8`; the lane's
default is 2, and the watcher never runs more than 4 per core at once).

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

"""#),
        TemplateFile(path: "Rules/Agents/hermes.md", contents: #"""
---
type: agent
name: hermes
lane: premium
command: [hermes, chat, -Q, --source, tool, "--query={prompt}"]
model_args: [-m, "{model}"]
readonly_args: [-t, "web,vision"]
approved_args: [-t, coding]
output: hermes
model:
max_cost_usd: 1.0
timeout: 900
env: [OPENROUTER_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY, HERMES_HOME]
context_tokens: 16000
---
# Hermes Agent

Nous Research's Hermes Agent (`pip install hermes-agent`), run as `hermes chat -Q --query=PROMPT`:
quiet single-query mode prints only the final answer on stdout; a failed turn says `Error: …` on
stderr, which becomes the run's error. `--source tool` keeps these runs out of your own session list.

Hermes answers a run without a terminal by approving its own dangerous commands, so the tools it
gets are chosen here: unless the task is approved it gets only the `web` and `vision` toolsets
(search, page extraction, image reading — no terminal, no file writes); an approved task gets
`coding` (terminal and file edits in the run's folder). We never pass `--yolo` or `-z`/`--oneshot`
(which bypasses every approval).

Hermes prints no token counts in this mode, so runs reserve `max_cost_usd` and are charged that
reservation unless you set prices. Models are `provider/model` (e.g. `anthropic/claude-sonnet-4`);
leave `model` empty for the one in `~/.hermes/config.yaml`. An install without keys fails with
"hermes is not configured": run `hermes setup` once, or list the key's variable in `env`.

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

"""#),
        TemplateFile(path: "Rules/Agents/llama-server.md", contents: #"""
---
type: agent
name: llama-server
lane: local
output: openai-chat
endpoint: http://localhost:8080/v1
model: local
stream: true
price_in_per_mtok: 0
price_out_per_mtok: 0
timeout: 600
context_tokens: 4000
---
# A local OpenAI-compatible server

Any server that speaks OpenAI's `POST /v1/chat/completions`: llama.cpp's `llama-server` (port
8080, the endpoint above), LM Studio (`http://localhost:1234/v1`), vLLM (`http://localhost:8000/v1`)
or Ollama's compatible endpoint (`http://localhost:11434/v1`). Set `endpoint` to the server's base
URL and `model` to a model it serves (`llama-server` answers with whatever it loaded, whatever the
name). Start the server first; `doctor` asks `GET /v1/models` to see whether it answers.

The answer is read as a stream (`stream: true`; set `false` for a server that cannot stream), with
the token counts of its last chunk (`stream_options.include_usage`), within `timeout`. Nothing
leaves the machine and every run costs nothing.

A remote server is a premium agent: copy this note, set `lane: premium`, its prices
(`price_in_per_mtok`, `price_out_per_mtok`, `max_cost_usd`) and `api_key_env: NAME`, the environment
variable holding its key (sent as a bearer token; the key itself never goes in a note). Only plain
`http://` is spoken (no TLS): a server on this machine or your own network.

To make it the local lane's agent, set `local_agent: llama-server` in `Rules/Guardrails.md` and
`agent: llama-server` in the local rules.

"""#),
        TemplateFile(path: "Rules/Agents/llm.md", contents: #"""
---
type: agent
name: llm
lane: premium
command: [llm, --no-log, --, "{prompt}"]
model_args: [-m, "{model}"]
output: text
model:
max_cost_usd: 0.1
timeout: 300
env: [OPENAI_API_KEY, LLM_USER_PATH]
context_tokens: 8000
---
# llm

Simon Willison's `llm`: plain text on stdout, any model its plugins provide. Its default model is
usually a cloud model, so this note puts it in the premium lane. If you point it at a local model
(for example with the `llm-ollama` or `llm-gpt4all` plugin), change `lane` to `local`. With the
`llm-echo` plugin, `model: echo` answers without a network, which is handy for trying things out.

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

"""#),
        TemplateFile(path: "Rules/Agents/ollama.md", contents: #"""
---
type: agent
name: ollama
lane: local
endpoint: http://localhost:11434
output: ollama
model: llama3.2
price_in_per_mtok: 0
price_out_per_mtok: 0
timeout: 600
context_tokens: 4000
---
# Ollama

The local lane's default agent: a model on this machine, through Ollama's HTTP API
(`POST /api/generate`), so nothing leaves the computer and every run costs nothing. Pull the
model first (`ollama pull llama3.2`) or set `model` to one you have.

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

"""#),
        TemplateFile(path: "Rules/Agents/openclaw.md", contents: #"""
---
type: agent
name: openclaw
lane: premium
command: [openclaw, agent, --local, --agent, main, --json, "--message={prompt}"]
model_args: [--model, "{model}"]
output: openclaw-json
model:
max_cost_usd: 1.0
timeout: 900
env: [OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY, OPENCLAW_HOME, OPENCLAW_STATE_DIR]
context_tokens: 16000
---
# OpenClaw

OpenClaw (`npm install -g openclaw`), one agent turn without a chat message:
`openclaw agent --local --agent main --json --message=PROMPT`. `--local` runs the embedded agent
on this machine instead of going through a Gateway; `--json` prints one object whose
`payloads[].text` is the answer and whose `meta.agentMeta` names the provider, model, session and
token `usage`. OpenClaw reports no dollar cost, so the cost is the reservation unless you add
`price_in_per_mtok` / `price_out_per_mtok`.

OpenClaw has no per-run read-only switch: what its agent may do is set in its own configuration
(`~/.openclaw/openclaw.json`). Give the `main` agent only the tools you want an unattended run to
have; the effects guardrail still sends tasks that declare or imply writes, shell or network use
to review first. Nothing is delivered to a chat channel (we never pass `--deliver`).

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

"""#),
        TemplateFile(path: "Rules/Agents/opencode.md", contents: #"""
---
type: agent
name: opencode
lane: tool
command: [opencode, run, --format, json, --, "{prompt}"]
model_args: [-m, "{model}"]
readonly_args: [--agent, plan]
approved_args: [--agent, build]
output: opencode-jsonl
model:
max_cost_usd: 1.0
timeout: 900
env: [OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY]
context_tokens: 16000
---
# OpenCode

The tool lane: work that needs tools beyond reading and writing text, such as a browser or
screenshots. Runs `opencode run --format json` and reads its NDJSON events; cost and tokens come
from `step_finish`. Models are named `provider/model`.

Unless the task is approved it runs as OpenCode's `plan` agent, which may not edit files.

A task whose own text does not fit `context_tokens` ends `failed` with the reason; add
`truncate: allow` to send it cut instead (recorded as `context_truncated`).

`opencode run` has no argument that hands it an MCP server for one run, so `mcp: true` is refused
here (the note would not load); register the server in OpenCode's own configuration with
`fuckbigtech mcp install opencode` instead.

"""#),
        TemplateFile(path: "Rules/Guardrails.md", contents: #"""
---
type: guardrails
budget_task_usd: 2.0
max_handoffs: 20
max_spawned_tasks: 50
budget_day_usd: 5.0
budget_month_usd: 50.0
budget_premium_day_usd: 5.0
budget_premium_month_usd: 50.0
private_tags: [private, secret, personal]
private_folders: [Private]
secret_patterns: []
secret_action: block
review_effects: [write, shell, network, deploy, payment, delete]
default_lane: local
default_agent: ollama
failover_premium: [codex, opencode]
project_roots: []
memory_exclude: [Tasks, Results, Telemetry, Daily, Handoffs, Memory/Conflicts, Rules, Templates, Skills, Private/Telemetry, Private/Daily]
---
# Guardrails

These settings win over every rule and every task.

- **Budgets** (USD, written `0.10`, `1` or `"$0.10"`): a paid run reserves its agent's
  `max_cost_usd` right before its agent starts and settles the real cost after, even when that is
  more than it reserved. A run that would pass `budget_task_usd`, a day or month cap, or a lane's
  cap (`budget_LANE_day_usd`, `budget_LANE_month_usd`) waits in the queue while runs in flight hold
  the room, else goes to the rule's `fallback` lane or to `review`, never to a silent paid call.
  A cap that spending went over stops paid runs until you raise it (`status` says which). A run cut
  off by a crash is charged its reservation unless its real cost is known. A cap that does not
  parse (`0,10`, `ten`) blocks every paid run until it is fixed; `doctor` names it. A handoff's
  runs spend from its original task's `budget_task_usd`, however often it is handed on. An agent
  told its reservation (`budget_args`: claude) may run on what a task has left; any other (codex,
  opencode, `llm`, a command) cannot be told it and may spend up to its `max_cost_usd`, so it
  reserves that, and a task with less left goes to review. `budget_task_usd: 2.0` holds a run and
  a handoff at the shipped agents' $1.00 each.
- **Handoffs**: a task may be handed on `max_handoffs` times; a handoff past that is written
  `blocked`, so agents handing work to each other (or one to itself) cannot loop. Agents' runs may
  make at most `max_spawned_tasks` tasks and handoffs for one task and what was made from it; past
  that, `task new` and `handoff` are refused inside a run (a person starts more).
- **Private**: a task tagged with one of `private_tags`, under one of `private_folders`, with
  `privacy: private`, or whose context includes such a note, only runs on the local lane. What a
  private run produces is private too: its result note, the tasks and handoffs its agent makes
  through `fuckbigtech` or its MCP server, and its telemetry row and
  daily line (the public ones say only `private run <run id>`; the full ones are in
  `Private/Telemetry/` and `Private/Daily/`). Packets for cloud agents leave out private daily-log
  lines and private memory matches.
- **Working folders**: agents never start in the vault. A run works in a fresh folder of its own
  outside it, or in the folder a task names in `project:`, which must lie under one of
  `project_roots` (e.g. `[~/code]`) and must not be, contain or lie in the vault.
- **Secrets**: prompts for non-local lanes are scanned for API keys, private keys, tokens and
  passwords, plus the regular expressions in `secret_patterns`; `secret_action` says whether a
  match blocks the run or is redacted.
- **Effects**: a task whose `effects` include one of `review_effects` waits in `review` until a
  person sets `approved: true`, unless a rule's `allow_effects` allows it. Agents run with their
  read-only flags unless the task was approved.
- **Failover**: when an agent reports a usage limit, a rate limit, an overload or a bad key, or
  runs out of time, the task is handed (a handoff note with what it produced and why it stopped)
  to the next agent of its chain: the rule's `failover`, else the agent note's `failover`, else
  `failover_LANE` here. Every guardrail applies to the next agent again: private work only moves
  to local agents, the budget is reserved again, effects still wait for a person. The agent then
  cools down until the reset time it printed (or 1 minute, doubling, at most an hour) and routing
  skips it; `fuckbigtech agent reset NAME` ends that.
- **Memory**: a context packet retrieves notes about the task's words from the whole vault except
  the folders in `memory_exclude` — the OS's own notes by default, so earlier tasks, their results
  and errors, and the logs never crowd out what you wrote. A task still gets every note it links
  or lists in `context`, and its chain (the original task, earlier handoffs and their results).
  Take `Results` out of the list to have earlier answers recalled. `fuckbigtech related NOTE`
  shows what a packet would retrieve.
- **qmd** (optional): add `qmd: search` (or `query`, `vsearch`) and, if you like,
  `qmd_collection: NAME` to have packets also ask [qmd](https://github.com/tobi/qmd) — when `qmd` is
  on the watcher's PATH and its index covers this vault — and merge its hits with ours. Its hits
  pass the same `memory_exclude`, privacy and secret checks. `fuckbigtech memory-test` then compares
  both engines on the same cases. Off unless set.
- **Defaults**: when no rule matches, `default_lane` and `default_agent` are used.

"""#),
        TemplateFile(path: "Rules/Memory Cases.md", contents: #"""
---
type: memory-cases
---
# Memory cases

Tasks written in plain words, and the note that answers each. `fuckbigtech memory-test` retrieves
memory for each task exactly as a context packet does and checks that the note is among the first
three memory pieces (hit@3, and MRR over the first ten); it compares both with the last run.

Add a row to the table when a task once got the wrong notes: write the task as you would write a
task note (not the note's title), and name the note as a link or a path. For example:

```
| Show a popup that asks the user to type a name | [[Dialogs]] |
| How do I undo the last change to a note? | Memory/Version history.md |
```

| Task | Note |
| --- | --- |

"""#),
        TemplateFile(path: "Rules/Routing Cases.md", contents: #"""
---
type: rule-cases
---
# Routing cases

Prompts and the lane the default rules should give them. A memory test routes each prompt and
compares; add a row when you add or change a rule. Each prompt is a task with no properties set.

| Prompt | Lane |
| --- | --- |
| Summarize the meeting notes from Monday in five bullet points | local |
| Extract every email address from the attached text | local |
| Classify these support tickets by urgency | local |
| Translate this paragraph into German | local |
| Rename these files so they follow the date-first convention | local |
| Format this table as Markdown | local |
| Read the nginx logs and tell me what went wrong overnight | local |
| Write a haiku about autumn | local |
| What is the capital of Australia? | local |
| Fix the off-by-one bug in the pagination code | premium |
| Refactor the parser into smaller functions and add unit tests | premium |
| Review this architecture proposal and list the risks | premium |
| Implement a function that merges two sorted lists | premium |
| Help me decide between Postgres and SQLite for this project | premium |
| Take a screenshot of the login page and describe the layout | tool |
| Open the website in a browser and fill in the signup form | tool |
| Check the UI for contrast problems | tool |
| Deploy the new version to production | human |
| Delete all records older than a year | human |
| Pay the outstanding invoice from Acme | human |
| Refund the customer's last order | human |

"""#),
        TemplateFile(path: "Rules/Routing/Default to local.md", contents: #"""
---
type: rule
priority: 1000
lane: local
agent: ollama
---
The catch-all, checked last: anything no other rule claims runs locally. Nothing reaches a paid
model unless a rule above, or the task itself, asks for it.

"""#),
        TemplateFile(path: "Rules/Routing/Local for routine work.md", contents: #"""
---
type: rule
priority: 40
when_keywords: [summarize, summarise, summary, extract, classify, categorize, rename, translate, translation, format, reformat, log, logs]
lane: local
agent: ollama
---
Routine text work (summaries, extraction, classification, renaming, translation, formatting,
reading logs) is what a local model does well, for free and without anything leaving the machine.

"""#),
        TemplateFile(path: "Rules/Routing/Premium for code and judgment.md", contents: #"""
---
type: rule
priority: 30
when_keywords: [code, coding, program, programming, bug, bugs, debug, fix, refactor, implement, function, compile, test, tests, script, API, architecture, design, review, strategy, decide, decision, tradeoff, prove]
lane: premium
agent: claude
fallback: local
---
Writing or fixing code and calls that need judgment (architecture, design, review, decisions) are
worth a premium model. Over budget, the task falls back to the local lane rather than waiting.

"""#),
        TemplateFile(path: "Rules/Routing/Private stays local.md", contents: #"""
---
type: rule
priority: 15
when_privacy: private
lane: local
agent: ollama
---
A private task runs on this machine. The guardrails enforce this anyway (also for private tags,
the `Private/` folder and private notes in the context); this rule makes the reason visible in
the task's `route_rule`.

"""#),
        TemplateFile(path: "Rules/Routing/Review risky effects.md", contents: #"""
---
type: rule
priority: 10
when_effects: [deploy, payment, delete]
lane: human
---
A task that declares it will deploy, pay or delete goes to a person first. It waits with
`status: review` until someone sets `approved: true`.

"""#),
        TemplateFile(path: "Rules/Routing/Review risky requests.md", contents: #"""
---
type: rule
priority: 11
when_keywords: [wipe, rm -rf, drop table, force push, force-push, wire transfer, delete everything]
lane: human
---
A prompt that asks to delete, deploy, publish or pay goes to a person first, even when the task does
not declare those effects: a wrong guess here is expensive and hard to undo. Most of that work is done
by the effects guardrail, which infers `delete`, `deploy` and `payment` from the task's own words — in
English, German, French, Spanish, Chinese and Japanese, and from commands such as `rm -rf`,
`git push --force`, `DROP TABLE`, `terraform apply` or `npm publish` — whether or not the task names
its agent or lane. Those inferred effects also make "Review risky effects" match. This rule only adds
a few phrases that need no grammar to be read as risky; nouns such as "deployment" or "payment" are
left out on purpose, so "summarize the deployment docs" is not held back.

"""#),
        TemplateFile(path: "Rules/Routing/Tools for UI and browser.md", contents: #"""
---
type: rule
priority: 20
when_keywords: [UI, browser, screenshot, screenshots, click, webpage, website, form]
lane: tool
agent: opencode
fallback: human
---
Work on a user interface, in a browser or with screenshots needs an agent that can use tools.

"""#),
    ]
}
