# Shared by the fixture agents (claude, codex, opencode): recording, JSON escaping and failure modes.
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

fixture_mode() {
    local prompt=$1
    if [ -n "${FBT_FIXTURE_MODE:-}" ]; then printf '%s' "$FBT_FIXTURE_MODE"; return; fi
    if [[ $prompt =~ FIXTURE_MODE=([a-z-]+) ]]; then printf '%s' "${BASH_REMATCH[1]}"; return; fi
    printf 'success'
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
    esac
}
