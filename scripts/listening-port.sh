# Sourced by the scripts that start `emergence serve --port 0`: `listening_port LOG` waits up to 10 s
# for the server's "emergence listening on ADDRESS:PORT" line in LOG and prints PORT (nothing if the
# line never came; the caller says so and shows the log).
listening_port() {
  local log=$1 port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/.*emergence listening on [^ ]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  printf '%s' "$port"
}
