#!/usr/bin/env bash
# Starts or stops a throwaway redis-server on 127.0.0.1 with a free port, for ctest fixtures.
#   redis_fixture.sh start DIR [PASSWORD_FILE]   writes DIR/port ("unavailable" if no redis-server)
#   redis_fixture.sh stop DIR
set -u
cmd=${1:?start|stop}
dir=${2:?directory}
pwfile=${3:-}

stop() {
  if [ -f "$dir/redis.pid" ]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/redis.pid"
  fi
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop DIR [PASSWORD_FILE]" >&2; exit 2 ;;
esac

mkdir -p "$dir"
stop
if ! command -v redis-server >/dev/null 2>&1; then
  echo unavailable > "$dir/port"
  echo "redis-server not found: tests that need Redis will be skipped"
  exit 0
fi

auth=()
cli_auth=()
if [ -n "$pwfile" ]; then
  pw=$(cat "$pwfile")
  auth=(--requirepass "$pw")
  cli_auth=(-a "$pw" --no-auth-warning)
fi

for _ in $(seq 30); do
  port=$(( 20000 + RANDOM % 40000 ))
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    "${auth[@]}" >/dev/null 2>&1 || continue
  for _ in $(seq 50); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" "${cli_auth[@]}" ping 2>/dev/null)" = "PONG" ]; then
      echo "$port" > "$dir/port"
      echo "redis-server on 127.0.0.1:$port"
      exit 0
    fi
    sleep 0.1
  done
  stop  # the port was taken or the server did not come up: try another one
done
echo "could not start redis-server; see $dir/redis.log" >&2
exit 1
