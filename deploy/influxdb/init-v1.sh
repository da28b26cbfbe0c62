#!/bin/bash
# InfluxDB 2.x first start (/docker-entrypoint-initdb.d, after setup): map the InfluxQL database
# the dashboards query to the bucket (v1 DBRP mapping) and create the read-only v1 user grafana.
set -euo pipefail
database="${YUJING_INFLUXQL_DATABASE:-yujing}"
bucket_id="$(influx bucket list --name "$DOCKER_INFLUXDB_INIT_BUCKET" --hide-headers | cut -f1)"
influx v1 dbrp create --db "$database" --rp autogen --bucket-id "$bucket_id" --default
influx v1 auth create --username grafana --password "$(cat /run/secrets/influxdb_v1_password)" \
  --read-bucket "$bucket_id"
