#!/usr/bin/env bash
# Writes the passwords docker-compose.yml requires (it has no defaults) to an env file, once:
#   bash scripts/compose-secrets.sh            # -> secrets.env (git-ignored, mode 600)
#   docker compose --env-file versions.env --env-file secrets.env up -d
# A variable already in the file is kept: Postgres, RabbitMQ and Grafana store the password in their volume on
# first start, so a new one would lock the services out. Values are hex, safe inside the URLs compose builds.
set -euo pipefail

file="${1:-secrets.env}"
names=(POSTGRES_PASSWORD CATALOG_DB_PASSWORD ORDERS_DB_PASSWORD FULFILLMENT_DB_PASSWORD REDIS_PASSWORD RABBITMQ_PASSWORD GRAFANA_ADMIN_PASSWORD)

umask 077
touch "$file"
chmod 600 "$file"
added=0
for name in "${names[@]}"; do
  if grep -q "^${name}=" "$file"; then continue; fi
  printf '%s=%s\n' "$name" "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >>"$file"
  added=$((added + 1))
done
echo "$file: $added password(s) added, $((${#names[@]} - added)) kept (Grafana: user admin, GRAFANA_ADMIN_PASSWORD)"
