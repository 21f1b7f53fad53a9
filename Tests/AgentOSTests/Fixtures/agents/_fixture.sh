# Shared by the fixture agents (claude, codex, opencode, hermes, openclaw): recording, JSON escaping and failure modes.
# Not a real tool. Modes come from FBT_FIXTURE_MODE, or from "FIXTURE_MODE=<mode>" inside the prompt.

json_escape() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    printf '%s' "$s"
}

now_ms() {
    local t=${EPOCHREALTIME/./}
    printf '%s' "${t:0:13}"
}

# record TOOL PROMPT ARGS... : one JSON line per run into $FBT_FIXTURE_LOG.
record() {
    [ -n "${FBT_FIXTURE_LOG:-}" ] || return 0
    local tool=$1 prompt=$2
    shift 2
    local argv="" a names="" n
    for a in "$@"; do argv+="${argv:+,}\"$(json_escape "$a")\""; done
    for n in $(compgen -e | sort); do names+="${names:+,}\"$n\""; done
    printf '{"tool":"%s","argv":[%s],"prompt":"%s","cwd":"%s","env":[%s]}\n' \
        "$tool" "$argv" "$(json_escape "$prompt")" "$(json_escape "$PWD")" "$names" >> "$FBT_FIXTURE_LOG"
}

# fixture_mode PROMPT [TOOL]: "FIXTURE_MODE_<TOOL>=<mode>" (e.g. FIXTURE_MODE_CLAUDE=usage-limit)
# acts on that tool only, so a task can make claude hit its limit and let codex, which gets the same
# task in its failover handoff, answer.
fixture_mode() {
    local prompt=$1 tool=${2:-}
    if [ -n "${FBT_FIXTURE_MODE:-}" ]; then printf '%s' "$FBT_FIXTURE_MODE"; return; fi
    if [ -n "$tool" ] && [[ $prompt =~ FIXTURE_MODE_${tool^^}=([a-z-]+) ]]; then printf '%s' "${BASH_REMATCH[1]}"; return; fi
    if [[ $prompt =~ FIXTURE_MODE=([a-z-]+) ]]; then printf '%s' "${BASH_REMATCH[1]}"; return; fi
    printf 'success'
}

# callback NAME ARGS... : runs the OS's CLI as an agent in a run would ("$FBT_BIN", with the run's
# environment: FBT_RUN_ID, FBT_VAULT), and appends "NAME exit=<code> <stderr>" to
# $FBT_FIXTURE_LOG.callbacks so a test can see what the OS answered.
callback() {
    local name=$1 err code
    shift
    err=$("${FBT_BIN:-fuckbigtech}" "$@" 2>&1 >/dev/null)
    code=$?
    [ -n "${FBT_FIXTURE_LOG:-}" ] && printf '%s exit=%s %s\n' "$name" "$code" "${err//$'\n'/ }" >> "$FBT_FIXTURE_LOG.callbacks"
    return 0
}

# The note a mode acts on: "FIXTURE_TARGET=<vault path without spaces>" in the prompt, or
# "FIXTURE_TARGET_HEX=<the path's bytes in hex>" for a note the task must not name (an agent that
# goes for a private note on its own: a task naming one is private itself).
fixture_target() {
    if [[ $1 =~ FIXTURE_TARGET_HEX=([0-9a-f]+) ]]; then printf "$(printf '%s' "${BASH_REMATCH[1]}" | sed 's/../\\x&/g')"; return; fi
    if [[ $1 =~ FIXTURE_TARGET=([^[:space:]]+) ]]; then printf '%s' "${BASH_REMATCH[1]}"; return; fi
    printf 'Tasks/OtherTask.md'
}

# Modes every tool shares; returns when the mode is the tool's own to handle.
common_modes() {
    case $1 in
        hang)
            # A grandchild in the same process group, as agents that run shell tools have.
            sleep 3600 &
            wait
            exit 0 ;;
        hang-ignore-term)
            # Ignores SIGTERM (and so does its grandchild, which inherits the ignored disposition).
            trap '' TERM
            sleep 3600 &
            wait
            exit 0 ;;
        slow)
            # Answers as usual, a moment later (a run still going when the watcher is told to stop).
            sleep 1.5 ;;
        flood)
            head -c 104857600 /dev/zero
            exit 0 ;;
        signal)
            echo "about to crash" >&2
            kill -SEGV $$
            exit 0 ;;
        exit-status)
            echo "fatal: something went wrong" >&2
            exit 3 ;;
        approve-other)
            # An agent that tries to approve (and re-status) another task through the OS's CLI,
            # then answers as usual.
            local target
            target=$(fixture_target "${prompt:-}")
            callback note-set-approved note set --vault "$FBT_VAULT" "$target" approved=true
            callback note-set-approved-by note set --vault "$FBT_VAULT" "$target" approved_by=alice "approved_at=2026-01-01T00:00:00"
            callback note-set-status note set --vault "$FBT_VAULT" "$target" status=new
            callback run-other run --vault "$FBT_VAULT" "$target" ;;
        write-vault)
            # An agent that writes notes straight into the vault and says nothing about them (what
            # the watcher's own view of a run is for): creates one note, changes another, then
            # lingers a moment so the watcher sees the writes before the run ends.
            mkdir -p "$FBT_VAULT/Memory"
            printf -- '---\ntype: note\n---\n# Written by an agent\n\nUnreported.\n' > "$FBT_VAULT/Memory/Agent wrote this.md"
            printf -- '\nAppended by an agent.\n' >> "$FBT_VAULT/$(fixture_target "${prompt:-}")"
            sleep 0.6 ;;
        spawn-approved)
            # An agent that tries to create tasks born approved, then answers as usual.
            local born=$'---\ntype: task\nstatus: review\napproved: true\neffects: [deploy, payment]\nagent: claude\n---\nDeploy and pay. FIXTURE_MODE=success\n'
            printf '%s' "$born" > "${TMPDIR:-/tmp}/fbt-fixture-born-$$.md"
            callback note-write-born note write --vault "$FBT_VAULT" --create "Tasks/Spawned approved.md" --from "${TMPDIR:-/tmp}/fbt-fixture-born-$$.md"
            rm -f "${TMPDIR:-/tmp}/fbt-fixture-born-$$.md"
            callback task-new task new --vault "$FBT_VAULT" --title "Spawned by agent" --agent claude --effects deploy,payment "Deploy the site and pay the invoice." ;;
    esac
}

# reset_epoch PROMPT: the epoch second a usage limit resets, "FIXTURE_RESET_IN=<seconds>" from now
# (default an hour).
reset_epoch() {
    local in=3600
    if [[ $1 =~ FIXTURE_RESET_IN=([0-9]+) ]]; then in=${BASH_REMATCH[1]}; fi
    printf '%s' $(( ${EPOCHSECONDS} + in ))
}
