#!/bin/sh
# bench/demo.sh — `esign demo` against a deployment started from scratch,
# through its public interfaces only (docs/operations.md, "esign demo").
#
#   bench/demo.sh all          esign all (SQLite, in-process bus); the demo uses
#                              the webhook credentials esign all writes into the
#                              data directory
#   bench/demo.sh production   oss, css, pdfservice, cron and tsa as separate
#                              processes over PostgreSQL, RabbitMQ and Redis, the
#                              demo's webhook endpoints and GET /dev/inbox enabled
#                              with a generated credentials file, as an operator
#                              would (ESIGN_WEBHOOK_…_FILE)
#
# It builds esign, starts the system (bench/deploy.sh) in a temporary data
# directory on loopback ports 10380-10389 and runs esign demo with
# --webhook, --mobile and --inbox; it fails when the demo does. The
# production run recreates the PostgreSQL database named by
# ESIGN_BENCH_DEMO_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/esign_demo)
# and empties the Redis database ESIGN_BENCH_DEMO_REDIS_URL (default
# redis://127.0.0.1:6379/14): never the ones of bench/flow.sh (esign_bench,
# Redis database 15). RabbitMQ: ESIGN_BENCH_DEMO_AMQP_URL, default the local
# guest account on a vhost of its own, esign_demo, which the script creates
# with rabbitmqctl when it can (else the default vhost), and in any case
# the bus namespace ESIGN_BENCH_DEMO_BUS_NAMESPACE (default demo), so that
# bench/flow.sh or a test on the same broker never answers its calls.
set -eu
mode=${1:-}
case "$mode" in all|production) shift ;; *) echo "usage: bench/demo.sh all|production [esign demo flags]" >&2; exit 2 ;; esac
. "$(dirname "$0")/deploy.sh"
deploy_init 103

flags=""
if [ "$mode" = all ]; then
	deploy_start all
else
	amqp=${ESIGN_BENCH_DEMO_AMQP_URL:-$(deploy_amqp_vhost esign_demo)}
	export ESIGN_BUS_NAMESPACE="${ESIGN_BENCH_DEMO_BUS_NAMESPACE:-demo}"
	creds=$work/webhook-credentials
	(umask 077 && printf 'demo:%s\n' "$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" >"$creds")
	for k in CUSTOMER_BOOTSTRAP CUSTOMER_SEND_ASSOCIATION_TOKEN CUSTOMER_APPROVE OFFER_UPLOAD OFFER_REVOKE DEV_INBOX; do
		export "ESIGN_WEBHOOK_${k}_FILE=$creds"
	done
	deploy_start production "${ESIGN_BENCH_DEMO_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/esign_demo}" \
		"${ESIGN_BENCH_DEMO_REDIS_URL:-redis://127.0.0.1:6379/14}" "$amqp"
	flags="--webhook-credentials $creds"
fi
# shellcheck disable=SC2086 # $flags is a list of words without spaces
if ! "$work/esign" demo --webhook "http://$ESIGN_LISTEN_WEBHOOK" --mobile "http://$ESIGN_LISTEN_MOBILE" \
	--inbox "http://$ESIGN_LISTEN_WEBHOOK/dev/inbox" --out "$work/out" $flags "$@"; then
	echo "bench/demo.sh: esign demo failed; logs:" >&2
	tail -n 20 "$work"/*.log >&2
	exit 1
fi
