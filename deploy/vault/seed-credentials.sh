#!/usr/bin/env bash
# Stores the Partner Center app credentials the broker serves, one KV v2 secret per environment at
# <KV_MOUNT>/data/<PATH_PREFIX>/<environment>, as {"client_id", "client_secret", "domain"}.
# For a Vault operator, with the `vault` CLI logged in. Secrets come from standard input only,
# never from arguments or the environment, so they stay out of shell history and process lists.
#
#   deploy/vault/seed-credentials.sh [ENVIRONMENT...]     (default: sandbox primary)
#
# Standard input is either
#   - a terminal: the script asks for each environment's client id, domain and client secret (the
#     secret is not echoed); or
#   - JSON with one object per environment, for example from a password manager's CLI:
#       { "sandbox": { "client_id": "...", "client_secret": "...", "domain": "contoso-sandbox.onmicrosoft.com" },
#         "primary": { "client_id": "...", "client_secret": "...", "domain": "contoso.onmicrosoft.com" } }
#     (parsed with jq, or python3 where jq is missing).
#
# Every input is checked before anything is written. Each write is check-and-set: CAS=0 (the
# default) creates the secret and fails if it exists; CAS=<version> replaces exactly that version.
# Later changes go through the broker's rotation API, which proves a key before storing it.
# The secrets' metadata gets cas_required=true, so no writer can skip check-and-set.
#
# Settings (environment variables): KV_MOUNT=secret, PATH_PREFIX=partner-center, CAS=0.
set -euo pipefail

KV_MOUNT="${KV_MOUNT:-secret}"
PATH_PREFIX="${PATH_PREFIX:-partner-center}"
CAS="${CAS:-0}"
if [ "$#" -eq 0 ]; then
    set -- sandbox primary
fi

die() { echo "seed-credentials.sh: $*" >&2; exit 1; }
command -v vault >/dev/null 2>&1 || die "the vault CLI is not on PATH"
[[ "$CAS" =~ ^[0-9]+$ ]] || die "CAS must be a version number (0: create only)"
for env in "$@"; do
    [[ "$env" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "'$env' is not an environment name"
done

# Prints the environment's object from the JSON document on stdin, compact, if it holds exactly
# client_id, client_secret and domain as non-empty strings; fails otherwise.
extract() { # ENVIRONMENT
    if command -v jq >/dev/null 2>&1; then
        jq -ce --arg env "$1" '.[$env] | select(type == "object" and (keys == ["client_id", "client_secret", "domain"])
            and all(.[]; type == "string" and length > 0 and (test("\\s") | not)))'
    elif command -v python3 >/dev/null 2>&1; then
        python3 -c '
import json, sys
entry = json.load(sys.stdin).get(sys.argv[1])
ok = isinstance(entry, dict) and sorted(entry) == ["client_id", "client_secret", "domain"] and all(
    isinstance(v, str) and v and not any(c.isspace() for c in v) for v in entry.values())
sys.exit(0 if ok and print(json.dumps(entry, separators=(",", ":"))) is None else 1)' "$1"
    else
        die "reading JSON needs jq or python3"
    fi
}

declare -A json ids domains secrets
if [ -t 0 ]; then
    for env in "$@"; do
        echo "Environment $env (stored at $KV_MOUNT/$PATH_PREFIX/$env)"
        read -r -p "  client id (application id): " "ids[$env]"
        read -r -p "  domain (tenant, e.g. contoso.onmicrosoft.com): " "domains[$env]"
        read -r -s -p "  client secret (not shown): " "secrets[$env]"
        echo
        for value in "${ids[$env]}" "${domains[$env]}" "${secrets[$env]}"; do
            [[ "$value" =~ ^[^[:space:]]+$ ]] || die "$env: every value is required, without spaces"
        done
    done
else
    document="$(cat)"
    [ -n "$document" ] || die "no JSON on standard input"
    for env in "$@"; do
        json[$env]="$(printf '%s' "$document" | extract "$env")" ||
            die "$env: the input needs an object with exactly client_id, client_secret and domain, non-empty, without spaces"
    done
    unset document
fi

# The secret reaches vault on its standard input (printf is a shell builtin: no process sees it
# as an argument): the whole JSON object with "-", or the one value with client_secret=-.
put() { # ENVIRONMENT PATH
    if [ -n "${json[$1]:-}" ]; then
        printf '%s' "${json[$1]}" | vault kv put -mount="$KV_MOUNT" -cas="$CAS" "$2" -
    else
        printf '%s' "${secrets[$1]}" | vault kv put -mount="$KV_MOUNT" -cas="$CAS" "$2" \
            client_id="${ids[$1]}" domain="${domains[$1]}" client_secret=-
    fi
}

for env in "$@"; do
    path="$PATH_PREFIX/$env"
    vault kv metadata put -mount="$KV_MOUNT" -cas-required=true "$path" >/dev/null
    if put "$env" "$path" >/dev/null; then
        echo "$env: stored at $KV_MOUNT/$path (check-and-set $CAS)"
    else
        die "$env: Vault refused the write; if it exists already, rotate it through the broker, or rerun with CAS=<its current version> to replace it"
    fi
done
