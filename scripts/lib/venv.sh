# shellcheck shell=bash
# Shared helpers for the deploy-side scripts (lint-template, lambda-build).
# Source it; it defines functions only and changes no shell options.
#
# One Python venv holds every Python-distributed tool the deploy path needs
# (aws-sam-cli, cfn-lint, cargo-lambda, ziglang), so CI on a fresh machine
# installs them with pip alone and a second run reuses them.

# Repo root: the scripts live in <root>/scripts.
THUMBS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# THUMBS_VENV overrides the location (default <root>/.venv, git-ignored).
THUMBS_VENV="${THUMBS_VENV:-$THUMBS_ROOT/.venv}"

die() {
    echo "error: $*" >&2
    exit 1
}

# Run a command quietly; on failure print its output and the command, then exit.
quiet() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "command failed: $*"
    fi
    rm -f "$log"
}

# venv_ensure PACKAGE...: create the venv if missing and pip install the packages
# that are not installed yet (a second run makes no network request).
venv_ensure() {
    local py="${PYTHON:-python3}"
    if [[ ! -x "$THUMBS_VENV/bin/python" ]]; then
        command -v "$py" >/dev/null || die "$py not found (need Python >= 3.9 for the venv)"
        quiet "$py" -m venv "$THUMBS_VENV"
    fi
    local missing=() pkg
    for pkg in "$@"; do
        # `pip show` is slow-ish (~0.3 s) but needs no network; name without version pin.
        if ! "$THUMBS_VENV/bin/python" -m pip show --quiet "${pkg%%[<>=!~]*}" >/dev/null 2>&1; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]})); then
        echo "installing into $THUMBS_VENV: ${missing[*]}" >&2
        quiet "$THUMBS_VENV/bin/python" -m pip install --disable-pip-version-check "${missing[@]}"
    fi
    export PATH="$THUMBS_VENV/bin:$PATH"
}
