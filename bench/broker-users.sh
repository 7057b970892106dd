# Sourced by bench/pipeline.sh and bench/sensor-broker (after scripts/lib.sh): the users of a
# bench's scratch broker, authentication on as shipped. moby-server logs in as its server user;
# every bench client as a gateway user of its own role, bench-<role> (the broker makes the user
# name the client id, so clients that run at once need users of their own), all with the one
# password in MOBY_BENCH_MQTT_PASSWORD (bench/mqtt_login.py reads it).
# shellcheck shell=bash

# bench_broker_users DIR: passwd and acl in DIR; sets server_password, exports MOBY_BENCH_MQTT_PASSWORD.
bench_broker_users() {
  local dir="$1" tool="$MOBY_ROOT/deploy/mosquitto/moby-mqtt-user" role i
  server_password="$("$tool" --dir "$dir" add server moby-server)" || die "moby-mqtt-user add server failed"
  MOBY_BENCH_MQTT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  export MOBY_BENCH_MQTT_PASSWORD
  local roles=(sensor sensor-pipeline sensor-background latency probe paced ceiling-sub)
  for ((i = 0; i < 16; i++)); do roles+=("ingest-$i" "ceiling-$i"); done
  for role in "${roles[@]}"; do
    printf '%s\n' "$MOBY_BENCH_MQTT_PASSWORD" |
      "$tool" --dir "$dir" add gateway "bench-$role" --password-stdin || die "moby-mqtt-user add gateway bench-$role failed"
  done
  # bench.py's broker ceiling uses a topic of its own, outside factory/ (moby-server must not get
  # its messages). Appended after the last moby-mqtt-user change: nothing rewrites it during a bench.
  {
    echo
    echo "# bench/broker-users.sh: the broker ceiling's topic (bench.py)"
    for ((i = 0; i < 16; i++)); do printf 'user bench-ceiling-%d\ntopic write bench/ceiling\n' "$i"; done
    printf 'user bench-ceiling-sub\ntopic read bench/ceiling\n'
  } >>"$dir/acl"
}

# bench_mqtt_url PORT ROLE: the broker URL of gateway user bench-ROLE (for moby-sensor).
bench_mqtt_url() {
  printf 'mqtt://bench-%s:%s@127.0.0.1:%s' "$2" "$(percent_encode "$MOBY_BENCH_MQTT_PASSWORD")" "$1"
}

# bench_server_url PORT: moby-server's broker URL.
bench_server_url() {
  printf 'mqtt://moby-server:%s@127.0.0.1:%s' "$(percent_encode "$server_password")" "$1"
}
