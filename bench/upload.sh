#!/bin/sh
# bench/upload.sh — the upload memory benchmark of docs/performance.md.
#
#   bench/upload.sh all        [esign-bench upload flags]   embedded: esign all (SQLite, in-process bus)
#   bench/upload.sh production [esign-bench upload flags]   oss, css, pdfservice, cron and tsa as separate
#                                                            processes over PostgreSQL, RabbitMQ and Redis
#
# It builds esign and esign-bench, starts the system (bench/deploy.sh) in a
# temporary data directory on loopback ports 10580-10589 with the offer
# upload and customer bootstrap endpoints enabled, and runs `esign-bench
# upload` with --pid of the process that receives the uploads (oss, or
# esign all): by default 8 clients each send one offer whose JSON body is
# about 60 MB (a 45 MB PDF in base64), all at once, and the JSON line
# reports the process's peak resident memory (VmHWM) during the run. Flags
# after the mode override these (e.g. --format multipart --size 60000000).
# ESIGN_BENCH_ESIGN=path runs that esign binary instead of building one
# (to measure another version with the same load). The production run
# uses ESIGN_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/esign_bench_upload, recreated),
# ESIGN_BENCH_REDIS_URL (default Redis database 14, emptied) and
# ESIGN_BENCH_AMQP_URL, in the bus namespace ESIGN_BENCH_BUS_NAMESPACE
# (default bench-upload).
set -eu
mode=${1:-}
case "$mode" in all|production) shift ;; *) echo "usage: bench/upload.sh all|production [esign-bench upload flags]" >&2; exit 2 ;; esac
. "$(dirname "$0")/deploy.sh"
deploy_init 105
(cd "$deploy_root" && go build -o "$work/esign-bench" ./cmd/esign-bench)
if [ -n "${ESIGN_BENCH_ESIGN:-}" ]; then
	cp "$ESIGN_BENCH_ESIGN" "$work/esign"
fi

cred=bench:0123456789abcdef-bench
export ESIGN_WEBHOOK_OFFER_UPLOAD=$cred ESIGN_WEBHOOK_CUSTOMER_BOOTSTRAP=$cred ESIGN_BENCH_WEBHOOK_AUTH=$cred
if [ "$mode" = all ]; then
	deploy_start all
else
	export ESIGN_BUS_NAMESPACE="${ESIGN_BENCH_BUS_NAMESPACE:-bench-upload}"
	deploy_start production "${ESIGN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/esign_bench_upload}" \
		"${ESIGN_BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}" "${ESIGN_BENCH_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
fi
pid=${deploy_pids##* } # the last process started: oss, or esign all
"$work/esign-bench" upload --url "http://$ESIGN_LISTEN_WEBHOOK" --pid "$pid" --format json --size 45000000 \
	--concurrency 8 --uploads 1 --timeout 5m "$@"
