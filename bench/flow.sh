#!/bin/sh
# bench/flow.sh — the signing-flow benchmark of docs/performance.md.
#
#   bench/flow.sh all        [esign-bench flow flags]   embedded: esign all (SQLite, in-process bus)
#   bench/flow.sh production [esign-bench flow flags]   oss, css, pdfservice, cron and tsa as separate
#                                                        processes over PostgreSQL, RabbitMQ and Redis
#
# It builds esign and esign-bench, starts the system in a temporary data
# directory on loopback ports 10281-10289 with the benchmark settings below,
# runs `esign-bench flow` (default --concurrency 32 --duration 30s
# --warmup 5s) and prints its JSON line. The production run recreates the
# PostgreSQL database named by ESIGN_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/esign_bench) and uses
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
# ESIGN_BENCH_DEBUG=1 opens /debug/pprof/ of each process on 127.0.0.1:
# 10291 oss (or all), 10292 pdfservice, 10293 tsa, 10294 css, 10295 cron.
set -eu
mode=${1:-}
case "$mode" in all|production) shift ;; *) echo "usage: bench/flow.sh all|production [esign-bench flow flags]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$work/esign" ./cmd/esign && go build -o "$work/esign-bench" ./cmd/esign-bench)

export ESIGN_DATA_DIR="$work/data" ESIGN_LOG_LEVEL=warn ESIGN_TSA_ACCURACY=10ms \
	ESIGN_NOTIFY_SMS_PER_HOUR=0 ESIGN_MOBILE_SMS_PER_NUMBER_PER_HOUR=1000000 \
	ESIGN_MOBILE_SMS_GLOBAL_PER_MINUTE=1000000 ESIGN_MOBILE_LOGIN_PER_APP_PER_10MIN=1000000 \
	ESIGN_MOBILE_TIMESTAMP_PER_APP_PER_10MIN=1000000 ESIGN_MOBILE_REGISTER_PER_IP_PER_10MIN=1000000 \
	ESIGN_LISTEN_ADMIN=127.0.0.1:10281 ESIGN_LISTEN_WEBHOOK=127.0.0.1:10282 ESIGN_LISTEN_REALTIME=127.0.0.1:10280 \
	ESIGN_LISTEN_MOBILE=127.0.0.1:10285 ESIGN_LISTEN_CUSTOMER=127.0.0.1:10283 ESIGN_LISTEN_CUSTOMER_REALTIME=127.0.0.1:10284 \
	ESIGN_LISTEN_PDFSERVICE=127.0.0.1:10286 ESIGN_LISTEN_CRON=127.0.0.1:10287 ESIGN_LISTEN_TSA=127.0.0.1:10288

start() { # start NAME: run `esign NAME` in the background
	dbg=""
	if [ -n "${ESIGN_BENCH_DEBUG:-}" ]; then # profiling endpoints, one port per process
		case "$1" in all|oss) dbg=127.0.0.1:10291 ;; pdfservice) dbg=127.0.0.1:10292 ;; tsa) dbg=127.0.0.1:10293 ;;
		css) dbg=127.0.0.1:10294 ;; cron) dbg=127.0.0.1:10295 ;; esac
	fi
	ESIGN_LISTEN_DEBUG=$dbg "$work/esign" "$1" >"$work/$1.log" 2>&1 &
	pids="$pids $!"
}
wait_ready() { # wait_ready ADDR: until http://ADDR/readyz answers 200
	i=0
	until curl -fsS -o /dev/null "http://$1/readyz" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "bench/flow.sh: $1 not ready after 60 s; logs:" >&2
			tail -n 20 "$work"/*.log >&2
			exit 1
		fi
		sleep 0.2
	done
}

if [ "$mode" = all ]; then
	start all
	wait_ready 127.0.0.1:10285
else
	pg=${ESIGN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/esign_bench}
	db=${pg##*/}
	db=${db%%\?*}
	PGOPTIONS=--client-min-messages=warning psql -q "${pg%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
	redis=${ESIGN_BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}
	redis-cli -u "$redis" flushdb >/dev/null
	redis=${ESIGN_BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}
	redis-cli -u "$redis" flushdb >/dev/null
	keys="bench:$(head -c 32 /dev/urandom | base64)"
	export ESIGN_DATABASE_DRIVER=postgres ESIGN_DATABASE_URL="$pg" ESIGN_CRYPTO_KEYS="$keys" \
		ESIGN_BUS_AMQP_URL="${ESIGN_BENCH_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}" \
		ESIGN_BUS_NAMESPACE="${ESIGN_BENCH_BUS_NAMESPACE:-bench}" \
		ESIGN_REDIS_URL="$redis"
	"$work/esign" migrate up >/dev/null
	start tsa
	wait_ready 127.0.0.1:10288
	"$work/esign" cert import --dev --activate >/dev/null
	start pdfservice
	start css
	start cron
	start oss
	wait_ready 127.0.0.1:10286
	wait_ready 127.0.0.1:10285
fi
"$work/esign-bench" flow --url http://127.0.0.1:10285 --concurrency 32 --duration 30s --warmup 5s "$@"
