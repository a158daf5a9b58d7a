#!/bin/sh
# bench/flow.sh — the signing-flow benchmark of docs/performance.md.
#
#   bench/flow.sh all        [esign-bench flow flags]   embedded: esign all (SQLite, in-process bus)
#   bench/flow.sh production [esign-bench flow flags]   oss, css, pdfservice, cron and tsa as separate
#                                                        processes over PostgreSQL, RabbitMQ and Redis
#
# It builds esign and esign-bench, starts the system (bench/deploy.sh) in a
# temporary data directory on loopback ports 10280-10289 with the benchmark
# settings below, runs `esign-bench flow` (default --concurrency 32
# --duration 30s --warmup 5s) and prints its JSON line: flows/s, the flow's
# and M2's latency, and what a flow costs — SQL statements, HTTP requests,
# bus calls and CPU milliseconds per flow, in all and per process
# (docs/performance.md, "The signing flow"). The production run
# recreates the PostgreSQL database named by ESIGN_BENCH_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/esign_bench) and uses
# ESIGN_BENCH_AMQP_URL and ESIGN_BENCH_REDIS_URL (defaults: the local
# RabbitMQ guest account and Redis database 15, which it empties first:
# sessions and rate-limit counters of earlier runs would skew this one),
# with its queues in the bus namespace ESIGN_BENCH_BUS_NAMESPACE (default
# bench) so that a system on the same broker does not answer its calls.
#
# Benchmark settings: the built-in TSA states an accuracy of 10 ms (an
# NTP-synchronised host; the default 1 s makes every flow wait about 4 s
# between its time-stamps), and the SMS and request limits that protect a
# real deployment from abuse are raised above the load, since every flow
# sends a signing code and every client signs offer after offer.
# ESIGN_BENCH_ESIGN=path runs that esign binary instead of the one built
# here (with --separate-timestamps for a server before the combined M1/M2).
# ESIGN_BENCH_DEBUG=1 opens /debug/pprof/ of each process on 127.0.0.1:
# 10291 oss (or all), 10292 pdfservice, 10293 tsa, 10294 css, 10295 cron.
set -eu
mode=${1:-}
case "$mode" in all|production) shift ;; *) echo "usage: bench/flow.sh all|production [esign-bench flow flags]" >&2; exit 2 ;; esac
. "$(dirname "$0")/deploy.sh"
deploy_init 102
(cd "$deploy_root" && go build -o "$work/esign-bench" ./cmd/esign-bench)
if [ -n "${ESIGN_BENCH_ESIGN:-}" ]; then # another esign binary (the "before" of a comparison)
	cp "$ESIGN_BENCH_ESIGN" "$work/esign"
fi

deploy_bench_limits
if [ "$mode" = all ]; then
	deploy_start all
else
	export ESIGN_BUS_NAMESPACE="${ESIGN_BENCH_BUS_NAMESPACE:-bench}"
	deploy_start production "${ESIGN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/esign_bench}" \
		"${ESIGN_BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}" "${ESIGN_BENCH_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
fi
# What a flow costs (docs/performance.md): the CPU time (pid file) and
# counters (operations listener) of each process started here and, in the
# production deployment, the CPU time of the shared servers.
if [ "$mode" = all ]; then
	names=all
else
	names="tsa pdfservice css cron oss"
	set -- --servers postgresql,rabbitmq,redis "$@"
fi
for n in $names; do
	set -- --process "$n=$work/$n.pid,http://$(deploy_ops "$n")" "$@"
done
"$work/esign-bench" flow --url "http://$ESIGN_LISTEN_MOBILE" --concurrency 32 --duration 30s --warmup 5s "$@"
