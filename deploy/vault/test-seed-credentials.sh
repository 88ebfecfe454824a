#!/usr/bin/env bash
# Tests seed-credentials.sh against a stand-in `vault` CLI that records its arguments and its
# standard input: secrets must reach Vault on standard input only, every write must be
# check-and-set on a path with cas_required, and bad input must write nothing. Run by deploy/check.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cat >"$work/bin/vault" <<'FAKE'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_VAULT/argv"
case "$*" in
    "kv put "*) { cat; echo; } >>"$FAKE_VAULT/stdin" ;;
esac
FAKE
chmod +x "$work/bin/vault"
export PATH="$work/bin:$PATH" FAKE_VAULT="$work"
passed=0
failed=0
expect() { # DESCRIPTION COMMAND...
    local what="$1"
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what" >&2; fi
}
reset() { : >"$work/argv"; : >"$work/stdin"; }

sandbox_secret="fake-sandbox-secret-$RANDOM$RANDOM"
primary_secret="fake-primary-secret-$RANDOM$RANDOM"

# JSON on standard input, both environments
reset
printf '{"sandbox":{"client_id":"11111111-1111-4111-8111-111111111111","client_secret":"%s","domain":"fake-sandbox.onmicrosoft.com"},
 "primary":{"client_id":"22222222-2222-4222-8222-222222222222","client_secret":"%s","domain":"fake-primary.onmicrosoft.com"}}' \
    "$sandbox_secret" "$primary_secret" | bash "$here/seed-credentials.sh" >"$work/out" 2>&1
expect "JSON: no secret in any vault argument" bash -c "! grep -q fake-.*-secret '$work/argv'"
expect "JSON: both secrets on vault's standard input" bash -c "grep -q '$sandbox_secret' '$work/stdin' && grep -q '$primary_secret' '$work/stdin'"
expect "JSON: cas_required set on both paths" bash -c "grep -qx 'kv metadata put -mount=secret -cas-required=true partner-center/sandbox' '$work/argv' && grep -qx 'kv metadata put -mount=secret -cas-required=true partner-center/primary' '$work/argv'"
expect "JSON: create-only writes (cas=0), data from stdin" bash -c "grep -qx 'kv put -mount=secret -cas=0 partner-center/sandbox -' '$work/argv' && grep -qx 'kv put -mount=secret -cas=0 partner-center/primary -' '$work/argv'"
expect "JSON: the secret stays out of the script's output" bash -c "! grep -q fake-.*-secret '$work/out'"

# An incomplete entry: nothing is written, not even the complete one
reset
printf '{"sandbox":{"client_id":"x","client_secret":"%s","domain":"d"},"primary":{"client_id":"y","client_secret":"s"}}' \
    "$sandbox_secret" | { ! bash "$here/seed-credentials.sh" >"$work/out" 2>&1; } && bad_input_failed=yes || bad_input_failed=no
expect "bad JSON: the script fails" test "$bad_input_failed" = yes
expect "bad JSON: nothing is written" test ! -s "$work/argv"
expect "bad JSON: the message names the environment, not the secret" bash -c "grep -q '^seed-credentials.sh: primary:' '$work/out' && ! grep -q fake- '$work/out'"

# A terminal: the secret is read without echo and passed as client_secret=- on standard input
if command -v python3 >/dev/null 2>&1; then
    reset
    python3 - "$here/seed-credentials.sh" "$sandbox_secret" >"$work/out" 2>&1 <<'PY'
import os, pty, sys, time
script, secret = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", script, "sandbox"])
answers = [b"11111111-1111-4111-8111-111111111111\n", b"fake-sandbox.onmicrosoft.com\n", secret.encode() + b"\n"]
seen = b""
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if answers and seen.rstrip().endswith(b":"):
        os.write(fd, answers.pop(0))
        seen = b""
    sys.stdout.buffer.write(chunk)
os.waitpid(pid, 0)
PY
    expect "terminal: no secret in any vault argument" bash -c "! grep -q fake-sandbox-secret '$work/argv'"
    expect "terminal: client_secret=- and cas=0" bash -c "grep -qx 'kv put -mount=secret -cas=0 partner-center/sandbox client_id=11111111-1111-4111-8111-111111111111 domain=fake-sandbox.onmicrosoft.com client_secret=-' '$work/argv'"
    expect "terminal: the secret on vault's standard input" grep -q "$sandbox_secret" "$work/stdin"
    expect "terminal: the secret is not echoed" bash -c "! grep -q '$sandbox_secret' '$work/out'"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
