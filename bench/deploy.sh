# bench/deploy.sh — starts a throw-away esign deployment for the scripts
# beside it (flow.sh, demo.sh, faults.sh). Source it; do not run it.
#
#   deploy_init P      builds esign into $work (a temporary directory that is
#                      removed on exit, with every process started here) and
#                      puts the data directory and every listener there:
#                      127.0.0.1:${P}80 realtime, ${P}81 admin, ${P}82 webhook,
#                      ${P}83 customer, ${P}84 customer realtime, ${P}85 mobile,
#                      ${P}86 pdfservice, ${P}87 cron, ${P}88 tsa;
#                      ESIGN_BENCH_PORTS overrides P, so that two runs on
#                      one machine (two worktrees) do not meet
#   deploy_start all
#                      esign all (SQLite, in-process bus)
#   deploy_start production PG_URL REDIS_URL AMQP_URL
#                      recreates the PostgreSQL database named by PG_URL and
#                      empties the Redis database of REDIS_URL (sessions and
#                      rate-limit counters of an earlier run would change this
#                      one), migrates, starts tsa, imports the development
#                      certificate as the bank's, then pdfservice, css, cron
#                      and oss as separate processes over PostgreSQL, RabbitMQ
#                      and Redis
#
#   deploy_bench_limits
#                      exports the benchmark settings of flow.sh and faults.sh:
#                      the SMS and request limits that protect a real
#                      deployment from abuse raised above the load (every
#                      flow sends a signing code, every client signs offer
#                      after offer) and a TSA accuracy of 10 ms
#   deploy_amqp_vhost V
#                      prints the AMQP URL of the local guest account on a
#                      vhost V of its own, created with rabbitmqctl when it
#                      can (else the default vhost)
#
# Settings are ESIGN_* variables exported before deploy_start. Logs are
# $work/NAME.log, process ids $work/NAME.pid. Each process has its operations listener (/metrics and
# the detailed /readyz; every other listener answers a bare /readyz) on
# 127.0.0.1: ${P}96 oss (or all), ${P}97 pdfservice, ${P}98 tsa, ${P}99 css,
# ${P}90 cron — deploy_ops NAME prints it. ESIGN_BENCH_DEBUG=1 opens
# /debug/pprof/ of each process on 127.0.0.1: ${P}91 oss (or all),
# ${P}92 pdfservice, ${P}93 tsa, ${P}94 css, ${P}95 cron.

deploy_init() {
	deploy_ports=${ESIGN_BENCH_PORTS:-$1}
	deploy_root=$(cd "$(dirname "$0")/.." && pwd)
	work=$(mktemp -d)
	deploy_pids=""
	trap deploy_cleanup EXIT INT TERM
	(cd "$deploy_root" && go build -o "$work/esign" ./cmd/esign)
	p=127.0.0.1:$deploy_ports
	export ESIGN_DATA_DIR="$work/data" ESIGN_LOG_LEVEL=warn \
		ESIGN_LISTEN_REALTIME=${p}80 ESIGN_LISTEN_ADMIN=${p}81 ESIGN_LISTEN_WEBHOOK=${p}82 \
		ESIGN_LISTEN_CUSTOMER=${p}83 ESIGN_LISTEN_CUSTOMER_REALTIME=${p}84 ESIGN_LISTEN_MOBILE=${p}85 \
		ESIGN_LISTEN_PDFSERVICE=${p}86 ESIGN_LISTEN_CRON=${p}87 ESIGN_LISTEN_TSA=${p}88
}

deploy_cleanup() {
	for pid in $deploy_pids; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}

deploy_ops() { # deploy_ops NAME: the operations listener of process NAME
	case "$1" in all|oss) o=96 ;; pdfservice) o=97 ;; tsa) o=98 ;; css) o=99 ;; cron) o=90 ;; esac
	echo "127.0.0.1:$deploy_ports$o"
}

deploy_run() { # deploy_run NAME: run `esign NAME` in the background
	dbg=""
	if [ -n "${ESIGN_BENCH_DEBUG:-}" ]; then # profiling endpoints, one port per process
		case "$1" in all|oss) dbg=91 ;; pdfservice) dbg=92 ;; tsa) dbg=93 ;; css) dbg=94 ;; cron) dbg=95 ;; esac
		dbg=127.0.0.1:$deploy_ports$dbg
	fi
	ESIGN_LISTEN_DEBUG=$dbg ESIGN_LISTEN_OPS=$(deploy_ops "$1") "$work/esign" "$1" >"$work/$1.log" 2>&1 &
	deploy_pids="$deploy_pids $!"
	echo $! >"$work/$1.pid"
	# what the process's environment has beyond the exported one, for a
	# restart by another tool (esign-bench faults)
	printf 'ESIGN_LISTEN_DEBUG=%s\nESIGN_LISTEN_OPS=%s\n' "$dbg" "$(deploy_ops "$1")" >"$work/$1.env"
}

deploy_wait_ready() { # deploy_wait_ready ADDR: until http://ADDR/readyz answers 200
	i=0
	until curl -fsS -o /dev/null "http://$1/readyz" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			echo "$0: $1 not ready after 60 s; logs:" >&2
			tail -n 20 "$work"/*.log >&2
			exit 1
		fi
		sleep 0.2
	done
}

deploy_bench_limits() {
	# An NTP-synchronised host: the default 1 s makes every flow wait about
	# 4 s between its time-stamps.
	export ESIGN_TSA_ACCURACY=10ms \
		ESIGN_NOTIFY_SMS_PER_HOUR=0 ESIGN_MOBILE_SMS_PER_NUMBER_PER_HOUR=1000000 \
		ESIGN_MOBILE_SMS_GLOBAL_PER_MINUTE=1000000 ESIGN_MOBILE_LOGIN_PER_APP_PER_10MIN=1000000 \
		ESIGN_MOBILE_TIMESTAMP_PER_APP_PER_10MIN=1000000 ESIGN_MOBILE_REGISTER_PER_IP_PER_10MIN=1000000
}

deploy_amqp_vhost() {
	if command -v rabbitmqctl >/dev/null 2>&1 && { rabbitmqctl -q list_vhosts | grep -qx "$1" ||
		rabbitmqctl -q add_vhost "$1"; } >/dev/null 2>&1 &&
		rabbitmqctl -q set_permissions -p "$1" guest '.*' '.*' '.*' >/dev/null 2>&1; then
		echo "amqp://guest:guest@127.0.0.1:5672/$1"
	else
		echo amqp://guest:guest@127.0.0.1:5672/
	fi
}

deploy_start() {
	if [ "$1" = all ]; then
		deploy_run all
		deploy_wait_ready "$ESIGN_LISTEN_MOBILE"
		return
	fi
	pg=$2 redis=$3
	db=${pg##*/}
	db=${db%%\?*}
	PGOPTIONS=--client-min-messages=warning psql -q "${pg%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
	redis-cli -u "$redis" flushdb >/dev/null
	export ESIGN_DATABASE_DRIVER=postgres ESIGN_DATABASE_URL="$pg" ESIGN_REDIS_URL="$redis" ESIGN_BUS_AMQP_URL="$4" \
		ESIGN_CRYPTO_KEYS="deploy:$(head -c 32 /dev/urandom | base64)"
	"$work/esign" migrate up >/dev/null
	deploy_run tsa
	deploy_wait_ready "$ESIGN_LISTEN_TSA"
	"$work/esign" cert import --dev --activate >/dev/null
	deploy_run pdfservice
	deploy_run css
	deploy_run cron
	deploy_run oss
	deploy_wait_ready "$ESIGN_LISTEN_PDFSERVICE"
	deploy_wait_ready "$ESIGN_LISTEN_MOBILE"
}
