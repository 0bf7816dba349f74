#!/usr/bin/env bash
# Certificate issuance rate: gate in-process and through its signer process
# vs `openssl speed ed25519` vs `ssh-keygen -s` (one process per
# certificate), same machine, one run.
# Builds nothing; see bench/README.md.
#
# Usage: bench/cert-issuance.sh BUILD_DIR [SECONDS] [SSH_KEYGEN_COUNT] [THREADS]
#   BUILD_DIR         a configured build with gate-bench-cert built in it
#   SECONDS           duration of the openssl and gate runs (default 5)
#   SSH_KEYGEN_COUNT  certificates signed with ssh-keygen -s (default 200)
#   THREADS           front-end thread counts for the concurrent runs
#                     (default 1,2,4,8)
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [SECONDS] [SSH_KEYGEN_COUNT] [THREADS]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 4 ]] || usage
build_dir=$1
seconds=${2:-5}
count=${3:-200}
threads=${4:-1,2,4,8}
bench="$build_dir/bench/gate-bench-cert"
if [[ ! -x $bench ]]; then
  echo "$bench not found; build it first:" >&2
  echo "  cmake --build $build_dir --target gate-bench-cert" >&2
  exit 1
fi
for tool in openssl ssh-keygen awk taskset; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Float arithmetic without bc (not installed everywhere).
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

echo "running openssl speed -seconds $seconds ed25519 ..." >&2
openssl speed -seconds "$seconds" ed25519 >"$tmp/openssl.out" 2>/dev/null
# Result line: " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  44945.9  16202.9"
openssl_sign=$(awk '/bits EdDSA \(Ed25519\)/ { print $(NF-1) }' "$tmp/openssl.out")
[[ -n $openssl_sign ]] || { echo "cannot parse openssl speed output" >&2; exit 1; }

echo "running ssh-keygen -s x $count ..." >&2
ssh-keygen -q -t ed25519 -N '' -C ca -f "$tmp/ca"
ssh-keygen -q -t ed25519 -N '' -C user -f "$tmp/user"
# Same certificate contents as gate-bench-cert: 1 principal, 3 extensions.
sign_loop() {
  local i
  for ((i = 1; i <= count; i++)); do
    ssh-keygen -q -s "$tmp/ca" -I alice@example.com -n alice -V +8h -z "$i" \
      -O clear -O permit-pty -O permit-port-forwarding -O permit-agent-forwarding \
      "$tmp/user.pub"
  done
}
# bash's `time` reports wall, user and sys, children included.
TIMEFORMAT='%R %U %S'
read -r kg_wall kg_user kg_sys < <({ time sign_loop; } 2>&1)
ssh-keygen -L -f "$tmp/user-cert.pub" >/dev/null  # the loop produced real certificates
keygen_wall_rate=$(calc "%.1f" "$count / $kg_wall")
keygen_cpu_rate=$(calc "%.1f" "$count / ($kg_user + $kg_sys)")

echo "running gate-bench-cert --seconds $seconds ..." >&2
"$bench" --seconds "$seconds" --threads "$threads" >"$tmp/gate.out"
result=$(grep '^RESULT ' "$tmp/gate.out")
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$result"; }
gate_cpu=$(field certs_per_cpu_sec)
gate_wall=$(field certs_per_wall_sec)
gate_sign=$(field sign_per_cpu_sec)
signer_cpu=$(field signer_per_cpu_sec)
signer_wall=$(field signer_per_wall_sec)
store_cpu=$(field store_per_cpu_sec)
signer_store_cpu=$(field signer_store_per_cpu_sec)
signer_store_wall=$(field signer_store_per_wall_sec)
bare_cpu=$(field bare_per_cpu_sec)

# The same again with both processes on one core: no idle core is woken
# for each message, as on a machine busy enough for CPU time to matter.
echo "running taskset -c 0 gate-bench-cert --seconds $seconds ..." >&2
taskset -c 0 "$bench" --seconds "$seconds" --threads "$threads" >"$tmp/gate-pinned.out"
result=$(grep '^RESULT ' "$tmp/gate-pinned.out")
pinned_sign=$(field sign_per_cpu_sec)
pinned_signer_cpu=$(field signer_per_cpu_sec)
pinned_bare_cpu=$(field bare_per_cpu_sec)

# Two decimals, or four for the tiny ssh-keygen ratios.
ratio() { awk "BEGIN { r = $1 / $openssl_sign; printf (r < 0.1 ? \"%.4fx\" : \"%.2fx\"), r }"; }
cfield() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
concurrent_rows() {
  local line r
  while read -r line; do
    r=$(cfield pipelined_per_cpu_sec "$line")
    printf '| %s | %s | %s/s | %s | %s us | %s/s | %s/s | %s | %s/s / %s/s |\n' "$2" \
      "$(cfield threads "$line")" "$r" "$(ratio "$r")" "$(calc "%.1f" "1e6 / $r")" \
      "$(cfield pipelined_per_wall_sec "$line")" "$(cfield serial_per_cpu_sec "$line")" \
      "$(ratio "$(cfield serial_per_cpu_sec "$line")")" "$(cfield store_per_cpu_sec "$line")" \
      "$(cfield store_per_wall_sec "$line")"
  done < <(grep '^CONCURRENT ' "$1")
}
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)

cat <<EOF

## Certificate issuance, $(date -u +%Y-%m-%d)

- CPU: $cpu ($(nproc) cores), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)
- $(openssl version), $(ssh -V 2>&1)
- Single thread; "per CPU-s" counts the process's own CPU time, as \`openssl speed\` does,
  plus the signer process's when one serves the requests.

| What | Rate | vs openssl speed |
|---|---:|---:|
| \`openssl speed ed25519\`, raw sign (per CPU-s) | $openssl_sign/s | 1.00x |
| gate \`SignCertificate\`, encode + sign (per CPU-s) | $gate_cpu/s | $(ratio "$gate_cpu") |
| gate \`SignCertificate\` (per wall-s) | $gate_wall/s | $(ratio "$gate_wall") |
| gate \`Ed25519PrivateKey::Sign\`, raw (per CPU-s) | $gate_sign/s | $(ratio "$gate_sign") |
| gate through the signer process, same certificate (per CPU-s, both processes) | $signer_cpu/s | $(ratio "$signer_cpu") |
| gate through the signer process (per wall-s) | $signer_wall/s | $(ratio "$signer_wall") |
| floor: a raw signature in a second process, bare messages (per CPU-s, both processes) | $bare_cpu/s | $(ratio "$bare_cpu") |
| both processes on one core (\`taskset -c 0\`): gate \`Ed25519PrivateKey::Sign\`, raw | $pinned_sign/s | $(ratio "$pinned_sign") |
| both on one core: gate through the signer process (per CPU-s, both processes) | $pinned_signer_cpu/s | $(ratio "$pinned_signer_cpu") |
| both on one core: floor, raw signature in a second process | $pinned_bare_cpu/s | $(ratio "$pinned_bare_cpu") |
| signer decision + SQLite (lookup, serial recorded, audit row), in process (per CPU-s) | $store_cpu/s | $(ratio "$store_cpu") |
| the same through the signer process (per CPU-s, both processes) | $signer_store_cpu/s | $(ratio "$signer_store_cpu") |
| the same through the signer process (per wall-s) | $signer_store_wall/s | $(ratio "$signer_store_wall") |
| \`ssh-keygen -s\`, one process per cert (wall, $count certs) | $keygen_wall_rate/s | $(ratio "$keygen_wall_rate") |
| \`ssh-keygen -s\` (per CPU-s, children included) | $keygen_cpu_rate/s | $(ratio "$keygen_cpu_rate") |

Concurrent issuance through the signer process: N front-end threads share
one client (as gate-ca's workers do). "in flight" is the client as gate-ca
runs it (every caller's request sent at once, replies matched by id);
"one at a time" is the same with a mutex around each call. Per CPU-s counts
every thread of the front end plus the signer process.

| placement | threads | in flight (per CPU-s) | vs openssl | CPU per cert | wall | one at a time (per CPU-s) | vs openssl | with the store, in flight (per CPU-s / wall) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(concurrent_rows "$tmp/gate.out" "as placed")
$(concurrent_rows "$tmp/gate-pinned.out" "one core")

gate in-process vs \`ssh-keygen -s\`: $(calc "%.0f" "$gate_cpu / $keygen_cpu_rate")x per CPU-s, \
$(calc "%.0f" "$gate_wall / $keygen_wall_rate")x wall.

EOF
status=0
for which in "in process:$gate_cpu" "through the signer process:$signer_cpu" \
  "through the signer process, both on one core:$pinned_signer_cpu"; do
  rate=${which##*:}
  if [[ $(calc "%d" "($rate >= 0.7 * $openssl_sign) ? 1 : 0") == 1 ]]; then
    echo "Target (>= 0.7x openssl raw sign), ${which%%:*}: met, $(ratio "$rate")."
  else
    echo "Target (>= 0.7x openssl raw sign), ${which%%:*}: NOT met, $(ratio "$rate")."
    status=1
  fi
done
exit $status
