# Sourced by scripts/schemathesis and scripts/docs-check: `start_partnerd WORKDIR` builds the
# debug binary, starts `partnerd serve` on a new SQLite database in WORKDIR on a free port, and
# sets `bin`, `db`, `addr` and `server` (stopped when the calling script exits). Extra plans
# can be written to WORKDIR/partnerd.toml before calling it.
start_partnerd() {
  local work="$1"
  cargo build -q -p partnerd
  bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/partnerd"
  db="sqlite://$work/partnerd.db"
  touch "$work/partnerd.toml"
  export PARTNERD_CONFIG="$work/partnerd.toml"
  unset PARTNERD_LOG_FORMAT PARTNERD_REDIS_URL PARTNERD_DATABASE_URL PARTNERD_LISTEN
  PARTNERD_LOG=info "$bin" serve --listen 127.0.0.1:0 --database "$db" >"$work/stdout" 2>"$work/serve.log" &
  server=$!
  trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
  addr=""
  for _ in $(seq 1 100); do
    addr="$(grep -o 'listening on http://[^ ]*' "$work/serve.log" | head -n 1 | sed 's|listening on http://||' || true)"
    [ -n "$addr" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "partnerd did not start:" >&2
  cat "$work/serve.log" >&2
  return 1
}
