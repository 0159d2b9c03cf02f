# Shared set-up for scripts/run and scripts/test: sourced, not run.
# Installs what a fresh machine lacks, starts PostgreSQL and Redis when they
# are not running, and builds the host, the tools and the components.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# One target directory shared by every clone (wasmtime is slow to build).
VOTTERY_CACHE="${VOTTERY_CACHE:-$HOME/.cache/vottery-target}"
if [ ! -e target ]; then
    mkdir -p "$VOTTERY_CACHE"
    ln -s "$VOTTERY_CACHE" target
fi

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    log "installing $*"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_toolchain() {
    if ! rustup target list --installed | grep -qx wasm32-wasip2; then
        log "adding the wasm32-wasip2 target"
        rustup target add wasm32-wasip2
    fi
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
    if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        apt_install postgresql postgresql-client
        local hba
        hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
        # Local development and CI only: trust connections from this machine.
        as_root sh -c "printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' > '$hba'"
    fi
    if ! pg_ready; then
        log "starting PostgreSQL"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    fi
    pg_ready || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
}

# The openssl CLI: the host's PostgreSQL TLS tests make their CA and
# server certificates with it.
ensure_openssl() {
    if ! command -v openssl >/dev/null; then
        apt_install openssl
    fi
}

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

ensure_redis() {
    if ! command -v redis-server >/dev/null; then
        apt_install redis-server redis-tools
    fi
    if ! redis_ready; then
        log "starting Redis"
        mkdir -p /tmp/vottery-redis
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
            --dir /tmp/vottery-redis --logfile /tmp/vottery-redis/redis.log
        for _ in $(seq 1 30); do redis_ready && break; sleep 0.2; done
    fi
    redis_ready || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
}

COMPONENTS=(gateway crypto auth users security devices static)
# Everything compiled for wasm32-wasip2: the components and the host's test
# fixtures, always together, so their dependencies are built with one set of
# features (the host's tests build the same list).
WASM_PACKAGES=()
for c in "${COMPONENTS[@]}"; do WASM_PACKAGES+=(-p "vottery-$c"); done
for f in "$ROOT"/host/tests/fixtures/*/; do WASM_PACKAGES+=(-p "fixture-$(basename "$f")"); done

# One cargo invocation for every native target (binaries, tests, benches of
# the default members), so the host, the tools and the tests share one
# feature set and wasmtime is compiled once; clippy checks the same set.
build_all() {
    log "building the host, the tools and the tests"
    cargo build --release --all-targets
    build_web
    log "building the components (wasm32-wasip2)"
    cargo build --release --target wasm32-wasip2 "${WASM_PACKAGES[@]}"
}

# `npm ci` in DIR when its node_modules is missing or was installed from
# another lock file.
ensure_node_packages() {
    local dir="$1" lock_sum stamp
    lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    stamp="$dir/node_modules/.vottery-lock.sha256"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
        log "installing the packages of ${dir#"$ROOT"/} (npm ci)"
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
        echo "$lock_sum" > "$stamp"
    fi
}

# The web client's production build (web/dist), which the static component
# embeds: type-checked and linted, then built by Vite. Needs Node.js 20.19
# or later.
build_web() {
    if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
        echo "the web client needs Node.js 20.19 or later (and npm)" >&2
        exit 1
    fi
    ensure_node_packages "$ROOT/clients/typescript"
    ensure_node_packages "$ROOT/web"
    log "building the web client (web/dist)"
    (cd "$ROOT/web" && npm run --silent check && npm run --silent build)
}

# The Kubernetes manifests (deploy/kubernetes): every document parsed and
# checked, and checked against the others and spin.toml, by
# deploy/kubernetes/check.mjs (Node.js 20 or later, npm packages `yaml` and
# `smol-toml`).
check_deploy_manifests() {
    if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
        echo "the manifest check needs Node.js 20 or later (and npm)" >&2
        exit 1
    fi
    ensure_node_packages "$ROOT/deploy/kubernetes"
    (cd "$ROOT/deploy/kubernetes" && node check.mjs --quiet)
}

# Development secrets, made once per machine (as the local PostgreSQL they
# seal keys in is the machine's) and never committed.
dev_secrets() {
    local dir="${VOTTERY_CONFIG_DIR:-$HOME/.config/vottery}"
    mkdir -p "$dir"
    # A checkout made before the secrets moved here brings its own along.
    if [ ! -e "$dir/dev.env" ] && [ -f .vottery/dev.env ]; then
        cp .vottery/dev.env "$dir/dev.env"
    fi
    touch "$dir/dev.env"
    chmod 600 "$dir/dev.env"
    local name
    for name in MASTER_KEY CONTACT_PEPPER OTP_KEY FINGERPRINT_KEY; do
        if ! grep -q "^SPIN_VARIABLE_$name=" "$dir/dev.env"; then
            echo "SPIN_VARIABLE_$name=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> "$dir/dev.env"
        fi
    done
    set -a
    # shellcheck disable=SC1091
    . "$dir/dev.env"
    set +a
}

# --- the browser tests' Chromium and packages (tests/browser)

# Debian's Chromium (installed if missing), Node.js 20 or later, and the
# browser tests' packages (npm ci when node_modules is missing or was
# installed from another lock file). Sets CHROMIUM and BROWSER_TESTS.
ensure_browser_tests() {
    CHROMIUM="${VOTTERY_CHROMIUM:-/usr/bin/chromium}"
    if [ ! -x "$CHROMIUM" ]; then
        apt_install chromium
    fi
    if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
        echo "the browser tests need Node.js 20 or later (and npm)" >&2
        exit 1
    fi
    BROWSER_TESTS="$ROOT/tests/browser"
    ensure_node_packages "$BROWSER_TESTS"
}

# --- the app on free ports, for scripts/browser-test and scripts/fuzz-contract

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_test_app NAME: ./scripts/run in a process group of its own (setsid),
# so the host, the outbox and any build they wait on stop together, on free
# ports, with a database of its own (made by the migrations, dropped by
# stop_test_app) and a Redis namespace of its own, so nothing left by other
# runs changes the outcome. Sets APP_PORT, OUTBOX_PORT, METRICS_PORT,
# EVENTS_PORT, WORK (its log is
# $WORK/app.log) and returns once the app answers its health check.
start_test_app() {
    local name="$1"
    APP_PORT=$(free_port)
    OUTBOX_PORT=$(free_port)
    METRICS_PORT=$(free_port)
    EVENTS_PORT=$(free_port)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/vottery-$name.XXXXXX")
    TEST_DATABASE="vottery_${name//-/_}_$$_$(date +%s)"
    log "starting the app (scripts/run) on 127.0.0.1:$APP_PORT, outbox on 127.0.0.1:$OUTBOX_PORT, database $TEST_DATABASE"
    VOTTERY_LISTEN="127.0.0.1:$APP_PORT" VOTTERY_OUTBOX="127.0.0.1:$OUTBOX_PORT" \
        VOTTERY_METRICS_LISTEN="127.0.0.1:$METRICS_PORT" VOTTERY_EVENTS_METRICS="127.0.0.1:$EVENTS_PORT" \
        VOTTERY_DATABASE_URL="host=127.0.0.1 user=postgres dbname=$TEST_DATABASE" \
        SPIN_VARIABLE_PG_DATABASE="$TEST_DATABASE" \
        SPIN_VARIABLE_REDIS_NAMESPACE="${SPIN_VARIABLE_REDIS_NAMESPACE:-vottery-$name-$$-$(date +%s)}" \
        setsid "$ROOT/scripts/run" > "$WORK/app.log" 2>&1 < /dev/null &
    APP_PID=$!
    local deadline=$(( $(date +%s) + ${VOTTERY_START_TIMEOUT:-3600} ))
    until curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/.well-known/spin/health" 2>/dev/null; do
        if ! kill -0 "$APP_PID" 2>/dev/null; then
            echo "scripts/run stopped before serving" >&2
            show_app_log
            exit 1
        fi
        if [ "$(date +%s)" -gt "$deadline" ]; then
            echo "the app did not answer its health check in time" >&2
            show_app_log
            exit 1
        fi
        sleep 0.5
    done
}

show_app_log() {
    echo "--- the app's log ($WORK/app.log), last 60 lines ---" >&2
    tail -n 60 "$WORK/app.log" >&2 || true
}

# Stops what start_test_app started and drops its database; for `trap`.
stop_test_app() {
    if [ -n "${APP_PID:-}" ] && kill -0 -- "-$APP_PID" 2>/dev/null; then
        kill -TERM -- "-$APP_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 -- "-$APP_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$APP_PID" 2>/dev/null || true
    fi
    if [ -n "${APP_PID:-}" ]; then
        wait "$APP_PID" 2>/dev/null || true
    fi
    APP_PID=""
    if [ -n "${TEST_DATABASE:-}" ]; then
        psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DROP DATABASE IF EXISTS $TEST_DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ -n "${WORK:-}" ]; then
        rm -rf "$WORK"
    fi
}

