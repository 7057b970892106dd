# tests/mqtt/run's set-up: Debian packages, the Python venv, leftovers of a crashed run.
# shellcheck shell=bash
MQTT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$MQTT_DIR/../harness/lib.sh"
VENV="$MOBY_ROOT/.build/mqtt-venv"

# ensure_mqtt_env: Mosquitto and its clients (mosquitto_passwd, mosquitto_sub), the pinned
# Python packages (pytest, paho-mqtt).
ensure_mqtt_env() {
  apt_install mosquitto mosquitto-clients python3-venv util-linux
  ensure_venv "$VENV" "$MQTT_DIR/requirements.txt"
  export MOBY_TEST_PIDS="${MOBY_TEST_PIDS:-$MOBY_ROOT/.build/test-pids}"
}

# reap_leftovers: stops, by PID, brokers a crashed earlier run of these tests left.
reap_leftovers() { reap_leftovers_of "mqtt tests"; }
