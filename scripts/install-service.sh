#!/bin/sh
# Installs this etcd as a system service, as root:
#   - the `etcd` group and system user (home /var/lib/etcd, no login shell);
#   - /etc/etcd/etcd.conf from etc/etcd/etcd.conf, unless one exists;
#   - /var/lib/etcd, mode 700, owned by etcd;
#   - /usr/local/bin/etcd: a link to this checkout's bin/etcd, unless an etcd is there already
#     (`npm install -g .` puts one there);
#   - with systemd: /etc/systemd/system/etcd.service, then `systemctl daemon-reload` and
#     `systemctl enable etcd`; without: /etc/init.d/etcd, then `chkconfig --add etcd` or
#     `update-rc.d etcd defaults`.
# Nothing that exists is changed without saying so.
#   --dry-run    print what would be done, do nothing
#   --root DIR   install under DIR instead of / (for tests and image builds: users go to DIR/etc/passwd
#                through useradd --prefix; services are enabled with systemctl --root, or not at all)
#   --no-systemd install the SysV script even where systemd runs
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=
DRY=
FORCE_SYSV=
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --root) ROOT=${2%/}; shift ;;
        --root=*) ROOT=${1#--root=}; ROOT=${ROOT%/} ;;
        --no-systemd) FORCE_SYSV=1 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-service: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ -z "$DRY" ] && [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
    echo "install-service: run as root (or with --dry-run)" >&2
    exit 1
fi

say() { echo "install-service: $*"; }
# run CMD...: print it, and run it unless --dry-run
run() {
    echo "+ $*"
    [ -n "$DRY" ] || "$@"
}

PREFIX_OPT=
[ -n "$ROOT" ] && PREFIX_OPT="--prefix $ROOT"

# The etcd group and user
if grep -q '^etcd:' "$ROOT/etc/group" 2>/dev/null; then
    say "group etcd exists: kept"
else
    # shellcheck disable=SC2086
    run groupadd --system $PREFIX_OPT etcd
fi
if grep -q '^etcd:' "$ROOT/etc/passwd" 2>/dev/null; then
    say "user etcd exists: kept"
else
    nologin=/usr/sbin/nologin
    [ -x "$nologin" ] || nologin=/sbin/nologin
    # shellcheck disable=SC2086
    run useradd --system $PREFIX_OPT --gid etcd --home-dir /var/lib/etcd --no-create-home --shell "$nologin" \
        --comment "etcd key-value store" etcd
fi

# chown_etcd PATH: owned by etcd (names resolved in ROOT's files under --root: numeric ids)
chown_etcd() {
    if [ -n "$ROOT" ]; then
        uid=$(awk -F: '$1 == "etcd" { print $3 }' "$ROOT/etc/passwd" 2>/dev/null)
        gid=$(awk -F: '$1 == "etcd" { print $3 }' "$ROOT/etc/group" 2>/dev/null)
        [ -n "$uid" ] && [ -n "$gid" ] || { say "(dry run: no etcd user yet to own $1)"; return 0; }
        run chown "$uid:$gid" "$1"
    else
        run chown etcd:etcd "$1"
    fi
}

# /etc/etcd/etcd.conf
if [ -e "$ROOT/etc/etcd/etcd.conf" ]; then
    say "$ROOT/etc/etcd/etcd.conf exists: kept (the shipped one is $SRC/etc/etcd/etcd.conf)"
else
    run mkdir -p "$ROOT/etc/etcd"
    run install -m 0644 "$SRC/etc/etcd/etcd.conf" "$ROOT/etc/etcd/etcd.conf"
fi

# /var/lib/etcd
if [ -d "$ROOT/var/lib/etcd" ]; then
    mode=$(stat -c %a "$ROOT/var/lib/etcd")
    if [ "$mode" = 700 ]; then say "$ROOT/var/lib/etcd exists: kept"; else say "$ROOT/var/lib/etcd exists with mode $mode: kept (etcd wants 700)"; fi
else
    run mkdir -p "$ROOT/var/lib/etcd"
    run chmod 0700 "$ROOT/var/lib/etcd"
    chown_etcd "$ROOT/var/lib/etcd"
fi

# /usr/local/bin/etcd
if [ -e "$ROOT/usr/local/bin/etcd" ] || [ -L "$ROOT/usr/local/bin/etcd" ]; then
    say "$ROOT/usr/local/bin/etcd exists: kept"
else
    [ -f "$SRC/dist/cli/main.js" ] || say "warning: $SRC/dist is not built yet: run npm install (or npm run build) there"
    run mkdir -p "$ROOT/usr/local/bin"
    run ln -s "$SRC/bin/etcd" "$ROOT/usr/local/bin/etcd"
fi

# install_shipped SRC DST MODE: install a shipped file unless DST exists (then say whether it differs)
install_shipped() {
    if [ -e "$2" ]; then
        if cmp -s "$2" "$1"; then say "$2 is up to date"; else say "$2 exists and differs: kept (the shipped one is $1)"; fi
    else
        run mkdir -p "$(dirname "$2")"
        run install -m "$3" "$1" "$2"
    fi
}

# The service: systemd's where it runs (under --root: wherever systemctl exists), else SysV
use_systemd=
if [ -z "$FORCE_SYSV" ] && command -v systemctl >/dev/null 2>&1; then
    if [ -n "$ROOT" ] || [ -d /run/systemd/system ]; then use_systemd=1; fi
fi
if [ -n "$use_systemd" ]; then
    install_shipped "$SRC/systemd/etcd.service" "$ROOT/etc/systemd/system/etcd.service" 0644
    if [ -n "$ROOT" ]; then
        run systemctl --root="$ROOT" enable etcd.service
    else
        run systemctl daemon-reload
        run systemctl enable etcd.service
    fi
    say "done: start it with systemctl start etcd"
else
    script="$ROOT/etc/init.d/etcd"
    install_shipped "$SRC/init.d/etcd" "$script" 0755
    if [ -n "$ROOT" ]; then
        say "not enabling the SysV script under --root (chkconfig and update-rc.d act on /)"
    elif command -v chkconfig >/dev/null 2>&1; then
        run chkconfig --add etcd
    elif command -v update-rc.d >/dev/null 2>&1; then
        run update-rc.d etcd defaults
    else
        say "warning: neither chkconfig nor update-rc.d found: link $script into your runlevels by hand"
    fi
    say "done: start it with service etcd start"
fi
