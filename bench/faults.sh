#!/bin/sh
# bench/faults.sh — the fault-injection suite of docs/reliability.md.
#
#   bench/faults.sh [--short] [esign-bench faults flags, e.g. --only oss_kill_in_m2,tsa_down]
#
# It builds esign and esign-bench, starts the production deployment
# (bench/deploy.sh: tsa, pdfservice, css, cron and oss as separate
# processes) on loopback ports 10480-10488, adds a second oss
# (10470-10473) and a second cron (10474), and drives a signing load of
# reference device clients that retry as the app does, through a
# balancer in front of both oss (10468). It injects one fault at a time
# — kill -9 of pdfservice, of an oss at a random moment, inside an M2 and
# inside a seal, of the cron leading the schedules; RabbitMQ, PostgreSQL
# and Redis cut off, Redis stalled; the TSA down; the document store full
# — and prints one JSON line per scenario:
#
#   {"scenario": NAME, "ok": true|false, "recovery_s": …, "violations": […], …}
#
# It exits 1 when a scenario broke an invariant. --short (what CI runs)
# makes the outages 8 s instead of 30 s and the restart delay 2 s
# instead of 5 s.
#
# The servers are shared with other runs and are never stopped: every
# esign process reaches them through `esign-bench proxy` (control on
# 10469; PostgreSQL 10460, RabbitMQ 10461, Redis 10462), which refuses,
# terminates or stalls connections. The deployment has its own
# PostgreSQL database ESIGN_BENCH_FAULTS_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/esign_faults, recreated), Redis
# database ESIGN_BENCH_FAULTS_REDIS_URL (default redis://127.0.0.1:6379/13,
# emptied), RabbitMQ vhost esign_faults (ESIGN_BENCH_FAULTS_AMQP_URL) and
# bus namespace faults. Its schedules run @every 10s so that every slot
# can be checked; the bank's event receiver listens on 10467.
set -eu
short=""
if [ "${1:-}" = --short ]; then
	short=--short
	shift
fi
. "$(dirname "$0")/deploy.sh"
deploy_init 104
(cd "$deploy_root" && go build -o "$work/esign-bench" ./cmd/esign-bench)

pg=${ESIGN_BENCH_FAULTS_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/esign_faults}
redis=${ESIGN_BENCH_FAULTS_REDIS_URL:-redis://127.0.0.1:6379/13}
amqp=${ESIGN_BENCH_FAULTS_AMQP_URL:-$(deploy_amqp_vhost esign_faults)}

hostport() { # the host:port of a URL
	hp=${1#*://}
	hp=${hp#*@}
	echo "${hp%%/*}"
}
via() { # via URL PORT: the URL through the proxy on 127.0.0.1:PORT
	hp=$(hostport "$1")
	echo "${1%%"$hp"*}127.0.0.1:$2${1#*"$hp"}"
}

"$work/esign-bench" proxy --control 127.0.0.1:10469 \
	--route "postgres=127.0.0.1:10460=$(hostport "$pg")" \
	--route "amqp=127.0.0.1:10461=$(hostport "$amqp")" \
	--route "redis=127.0.0.1:10462=$(hostport "$redis")" >"$work/proxy.log" 2>&1 &
deploy_pids="$deploy_pids $!"
i=0
until curl -fsS -o /dev/null http://127.0.0.1:10469/redis 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "$0: esign-bench proxy did not start:" >&2
		cat "$work/proxy.log" >&2
		exit 1
	fi
	sleep 0.1
done

deploy_bench_limits
export ESIGN_BUS_NAMESPACE=faults \
	ESIGN_CRON_OFFER_TIMEOUT='@every 10s' ESIGN_CRON_DELETE_DOCUMENTS='@every 10s' ESIGN_CRON_DELETE_EXPIRED_URL='@every 10s' \
	ESIGN_WEBHOOK_EVENT_URLS=http://127.0.0.1:10467/events \
	ESIGN_WEBHOOK_EVENT_SECRET="$(head -c 32 /dev/urandom | base64)"
deploy_start production "$(via "$pg" 10460)" "$(via "$redis" 10462)" "$(via "$amqp" 10461)"

# shellcheck disable=SC2086 # $short is empty or one word
if ! "$work/esign-bench" faults $short --esign "$work/esign" --work "$work" --period 10s \
	--direct-postgres "$pg" --direct-redis "$redis" --events 127.0.0.1:10467 "$@"; then
	logs=${TMPDIR:-/tmp}/esign-faults-logs
	rm -rf "$logs" && mkdir -p "$logs" && cp "$work"/*.log "$logs"/
	echo "$0: a scenario failed; the processes' logs are in $logs" >&2
	exit 1
fi
