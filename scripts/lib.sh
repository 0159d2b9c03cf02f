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

COMPONENTS=(gateway crypto auth users security devices)
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
    log "building the components (wasm32-wasip2)"
    cargo build --release --target wasm32-wasip2 "${WASM_PACKAGES[@]}"
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
