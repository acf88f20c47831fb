#!/usr/bin/env bash
# Entrypoint of pgparity's locally built PostgreSQL test image.
#
# Our own implementation of the documented interface of the official `postgres` image, so the
# tests exercise the same contract as the containers pgparity meets in the wild:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER,
#   POSTGRES_DB, POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD,
#   PGDATA, the <VAR>_FILE variants of the first four, and /docker-entrypoint-initdb.d.
# Since PostgreSQL 18, PGDATA is /var/lib/postgresql/<major>/docker below a volume at
# /var/lib/postgresql, and a mount at the old /var/lib/postgresql/data is refused.
# A new cluster is initialised behind a temporary server that listens on the Unix socket only,
# so TCP clients see nothing until the real server starts, as with the official image.
# No `set -u`: sourced init scripts written for the official image must behave the same here.
set -eo pipefail

readonly INIT_DIR=/docker-entrypoint-initdb.d
readonly SOCKET_DIR=/var/run/postgresql

log() { printf 'docker-entrypoint: %s\n' "$*"; }
fail() { printf 'docker-entrypoint: error: %s\n' "$*" >&2; exit 1; }

# `postgres --version` and friends only print something: no directories, no cluster.
only_prints_info() {
    local arg
    for arg; do
        case "$arg" in
            '-?' | --help | --describe-config | -V | --version) return 0 ;;
        esac
    done
    return 1
}

# Docker secrets: <VAR>_FILE names a file that holds the value of <VAR>.
load_secret_files() {
    local var file value
    for var in POSTGRES_PASSWORD POSTGRES_USER POSTGRES_DB POSTGRES_INITDB_ARGS; do
        file="${var}_FILE"
        if [[ -n "${!file:-}" ]]; then
            [[ -z "${!var:-}" ]] || fail "$var and $file are both set; use only one"
            value="$(< "${!file}")"
            export "$var=$value"
        fi
        unset "$file"
    done
}

# Idempotent, so it runs both as root (which can chown) and again as postgres.
prepare_directories() {
    local dirs=("$PGDATA")
    [[ -z "${POSTGRES_INITDB_WALDIR:-}" ]] || dirs+=("$POSTGRES_INITDB_WALDIR")
    mkdir -p "${dirs[@]}" "$SOCKET_DIR"
    if [[ $(id -u) == 0 ]]; then
        find "${dirs[@]}" ! -user postgres -exec chown postgres:postgres '{}' +
        chown postgres:postgres "$SOCKET_DIR"
    fi
    chmod 700 "${dirs[@]}" 2>/dev/null || :
    chmod 3777 "$SOCKET_DIR" 2>/dev/null || :
}

# A volume at the pre-18 path would silently go unused while the cluster lands elsewhere.
refuse_unused_data_mount() {
    local old=/var/lib/postgresql/data
    if [[ "$PGDATA" == "$old" || "$PGDATA" == "$old"/* ]]; then
        return 0
    fi
    if mountpoint -q "$old" || [[ -s "$old/PG_VERSION" ]]; then
        fail "$old is a mount or holds a cluster, but PGDATA is $PGDATA; mount the volume at /var/lib/postgresql instead"
    fi
}

require_password() {
    if [[ -n "${POSTGRES_PASSWORD:-}" || "${POSTGRES_HOST_AUTH_METHOD:-}" == trust ]]; then
        return 0
    fi
    cat >&2 <<'EOF'
docker-entrypoint: error: the database is not initialised and POSTGRES_PASSWORD is not set.
  Set POSTGRES_PASSWORD to a non-empty superuser password, or set
  POSTGRES_HOST_AUTH_METHOD=trust to accept every connection without a password
  (only ever acceptable for throwaway test servers).
EOF
    exit 1
}

# Without POSTGRES_HOST_AUTH_METHOD, TCP logins use the method matching how the server hashes
# passwords: its password_encryption under the user's server arguments (md5 by default before
# PostgreSQL 14, scram-sha-256 since), so the stored superuser password always verifies.
host_auth_method() {
    if [[ -n "${POSTGRES_HOST_AUTH_METHOD:-}" ]]; then
        printf '%s\n' "$POSTGRES_HOST_AUTH_METHOD"
    else
        postgres -D "$PGDATA" -C password_encryption "${@:2}"
    fi
}

init_cluster() {
    local args=() method
    read -ra args <<< "${POSTGRES_INITDB_ARGS:-}"
    [[ -z "${POSTGRES_INITDB_WALDIR:-}" ]] || args+=(--waldir="$POSTGRES_INITDB_WALDIR")
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") "${args[@]}"
    method="$(host_auth_method "$@")"
    printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
}

# The user's server arguments apply here too; ours come last so they win.
start_socket_only_server() {
    local opts=""
    if (( $# > 1 )); then
        opts="$(printf '%q ' "${@:2}")"
    fi
    opts+="-c listen_addresses='' -p ${PGPORT:-5432}"
    pg_ctl -D "$PGDATA" -o "$opts" -w start
}

run_sql() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username="$POSTGRES_USER" "$@"
}

create_database() {
    if [[ "$POSTGRES_DB" != postgres ]]; then
        log "creating database $POSTGRES_DB"
        run_sql --dbname=postgres --set=db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";'
    fi
}

# Byte order, not the locale's collation, decides the sequence of the init files.
run_init_files() {
    local files=() file
    mapfile -d '' files < <(find "$INIT_DIR" -mindepth 1 -maxdepth 1 -print0 | LC_ALL=C sort -z)
    for file in "${files[@]}"; do
        case "$file" in
            *.sh)
                if [[ -x "$file" ]]; then
                    log "running $file"
                    "$file"
                else
                    log "sourcing $file"
                    # shellcheck source=/dev/null
                    source "$file"
                fi
                ;;
            *.sql) log "running $file"; run_sql --dbname="$POSTGRES_DB" --file="$file" ;;
            *.sql.gz) log "running $file"; gunzip -c "$file" | run_sql --dbname="$POSTGRES_DB" ;;
            *) log "ignoring $file" ;;
        esac
    done
}

initialise() {
    require_password
    init_cluster "$@"
    export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
    start_socket_only_server "$@"
    create_database
    run_init_files
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
    log "initialisation complete; starting the server"
}

main() {
    if [[ "${1:-}" == -* ]]; then
        set -- postgres "$@"
    fi
    if [[ "${1:-}" != postgres ]] || only_prints_info "$@"; then
        exec "$@"
    fi
    # Before dropping root: a secret file may be readable by root only.
    load_secret_files
    refuse_unused_data_mount
    prepare_directories
    if [[ $(id -u) == 0 ]]; then
        HOME=~postgres exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    export POSTGRES_USER="${POSTGRES_USER:-postgres}"
    export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
    if [[ -s "$PGDATA/PG_VERSION" ]]; then
        log "$PGDATA already holds a cluster; skipping initialisation"
    else
        initialise "$@"
    fi
    exec "$@"
}

main "$@"
