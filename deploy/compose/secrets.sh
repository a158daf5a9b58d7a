#!/bin/sh
# Writes the secret files compose.yaml mounts (./secrets, a directory only
# its owner can enter), once:
# existing files are kept, so a rerun never changes a password that the
# database or the broker already holds. Random values are hex, so that they
# need no escaping inside URLs.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
put() { [ -s "secrets/$1" ] || printf '%s\n' "$2" >"secrets/$1"; }

put postgres-password "$(rand 24)"
pg=$(cat secrets/postgres-password)
put database-url "postgres://esign:$pg@postgres:5432/esign?sslmode=disable"

put rabbitmq-password "$(rand 24)"
mq=$(cat secrets/rabbitmq-password)
put rabbitmq.conf "default_user = esign
default_pass = $mq
default_vhost = esign"
put amqp-url "amqp://esign:$mq@rabbitmq:5672/esign"

put redis-password "$(rand 24)"
rd=$(cat secrets/redis-password)
put redis.conf "requirepass $rd
appendonly yes"
put redis-url "redis://:$rd@redis:6379/0"

# Envelope key-encryption key (docs/crypto.md): losing it loses every
# stored secret and document. Back it up apart from the database.
put crypto-keys "k$(date -u +%Y%m%d):$(head -c 32 /dev/urandom | base64)"

# The containers run as 65532 and must read the files (Docker mounts them
# with the host's modes); the directory keeps other users of the host out.
chmod 0700 secrets
chmod 0644 secrets/*
echo "secrets in $(pwd)/secrets"
