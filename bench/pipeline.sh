# Sourced by bench scripts: starts Mosquitto, InfluxDB and a release moby-server on free ports
# under a temporary folder, and stops them on exit. Sets mqtt_port, influx_port, http_port,
# and the pids of mosquitto, influxd and moby-server.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$MOBY_ROOT"

ensure_tools
python3 -c "import paho.mqtt" 2>/dev/null || python3 -m pip install -q "paho-mqtt>=2,<3"
# MOBY_BENCH_SERVER: another moby-server binary to measure (e.g. to compare two builds).
server_bin="${MOBY_BENCH_SERVER:-}"
[ -n "$server_bin" ] || swift build -c release --product moby-server 2>&1 | grep -E "error|Build" || true
bin="$(swift build -c release --show-bin-path)"
server_bin="${server_bin:-$bin/moby-server}"

dir="$(mktemp -d /tmp/moby-bench.XXXXXX)"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mqtt_port="$(port)"; influx_port="$(port)"; rpc_port="$(port)"; http_port="$(port)"
source "$MOBY_ROOT/bench/broker-users.sh"
bench_broker_users "$dir"
render mosquitto/mosquitto.conf.in "$dir/mosquitto.conf" PORT="$mqtt_port" DATA_DIR="$dir" USER="$(id -un)" \
  PASSWORD_FILE="$dir/passwd" ACL_FILE="$dir/acl" AUTH=""
render influxdb/influxdb.conf.in "$dir/influxdb.conf" HTTP_PORT="$influx_port" RPC_PORT="$rpc_port" DATA_DIR="$dir/influx" \
  AUTH_ENABLED=false
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

start_influxd() {
  influxd -config "$dir/influxdb.conf" >>"$dir/influxd.log" 2>&1 &
  influxd_pid=$!
  pids+=("$influxd_pid")
  wait_port "$influx_port" influxd 60
}
mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 & mosquitto_pid=$!; pids+=("$mosquitto_pid")
wait_port "$mqtt_port" mosquitto
start_influxd
# The API needs a credential (issue 14): an admin token for the benchmark's own requests
# (/health/ready, /metrics, /api/v1/alerts, /ws), made in the server's data folder before it starts.
MOBY_BENCH_TOKEN="$("$server_bin" tokens create --role admin --name bench --data-dir "$dir/server")" \
  || die "could not create the benchmark's API token"
export MOBY_BENCH_TOKEN
MOBY_MQTT_URL="$(bench_server_url "$mqtt_port")" MOBY_INFLUX_URL="http://127.0.0.1:$influx_port" \
  MOBY_HTTP_PORT="$http_port" MOBY_DATA_DIR="$dir/server" MOBY_LOG_LEVEL=warning \
  "$server_bin" >"$dir/server.log" 2>&1 & server_pid=$!; pids+=("$server_pid")
until curl -sf -H "Authorization: Bearer $MOBY_BENCH_TOKEN" "http://127.0.0.1:$http_port/health/ready" >/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { tail -40 "$dir/server.log" >&2; die "moby-server exited during start-up (log above)"; }
  sleep 0.1
done

cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
peak_rss() { awk '/VmHWM/ {print $2, $3}' "/proc/$1/status"; }
