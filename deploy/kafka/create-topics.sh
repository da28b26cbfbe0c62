#!/bin/bash
# Create the scale-out runtime's topics before the bridge or a worker starts (compose service
# "kafka-init"). Broker auto-creation is off: an auto-created readings topic would get one
# partition, and stations would live in other partitions than the workers expect.
#   PARTITIONS (8) readings, findings, notices, dead letters; the network topic has 1
#   PREFIX (yujing), BOOTSTRAP (kafka:9092), REPLICATION (1)
set -euo pipefail
bin=/opt/kafka/bin
bootstrap="${BOOTSTRAP:-kafka:9092}"
prefix="${PREFIX:-yujing}"
partitions="${PARTITIONS:-8}"
replication="${REPLICATION:-1}"
create() {  # name partitions [config...]
  local name="$1" count="$2"; shift 2
  local configs=()
  for config in "$@"; do configs+=(--config "$config"); done
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$prefix-$name" --partitions "$count" --replication-factor "$replication" \
    "${configs[@]}"
}
create readings "$partitions" retention.ms=604800000    # a week of raw readings to replay
create network 1 retention.ms=86400000
create findings "$partitions" retention.ms=604800000
create notices "$partitions" retention.ms=2592000000     # 30 days: the delivery record
create dead-letters "$partitions" retention.ms=2592000000
"$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$prefix-readings"
