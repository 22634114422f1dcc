# shellcheck shell=bash
# Finding a thumbs-local started by a script: it writes its addresses to --ready-file as JSON
# once it serves (written under a temporary name, then renamed: the file is whole or absent).
# Source it; it defines functions only.

# wait_ready FILE PID [SECONDS]: 0 once FILE exists, 1 if process PID exits first or time runs
# out (default 60 s).
wait_ready() {
    local file=$1 pid=$2 tries=$((${3:-60} * 10)) i
    for ((i = 0; i < tries; i++)); do
        [[ -e "$file" ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ready_field FILE NAME: prints one field of the ready file (empty for null).
ready_field() {
    python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print("" if v is None else v)' "$1" "$2"
}
