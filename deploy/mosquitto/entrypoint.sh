#!/bin/sh
# Write mosquitto's password file from the secrets, then run mosquitto.
#   /run/secrets/mqtt_bridge_password     the bridge (user yujing-bridge)
#   /run/secrets/mqtt_stations            optional: "station-id:password" per line
# Paths can be moved with SECRETS_DIR, PASSWD_FILE and MOSQUITTO_CONF (the tests do).
set -eu
secrets="${SECRETS_DIR:-/run/secrets}"
passwd="${PASSWD_FILE:-/mosquitto/data/passwd}"
conf="${MOSQUITTO_CONF:-/mosquitto/config/mosquitto.conf}"

mkdir -p "$(dirname "$passwd")"
umask 077
: > "$passwd.new"
add() { mosquitto_passwd -b "$passwd.new" "$1" "$2"; }
add yujing-bridge "$(cat "$secrets/mqtt_bridge_password")"
if [ -f "$secrets/mqtt_stations" ]; then
  while IFS=: read -r user pass || [ -n "$user" ]; do
    case "$user" in ''|'#'*) continue ;; esac
    add "$user" "$pass"
  done < "$secrets/mqtt_stations"
fi
mv "$passwd.new" "$passwd"
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
  chown mosquitto:mosquitto "$passwd"
fi
exec mosquitto -c "$conf"
