#!/usr/bin/env bash
# Smoke test of the Windows installer under Wine, on Linux:
#   1. a fresh Wine prefix in a temp dir, plus a test-only bcryptprimitives.dll shim
#      (packaging/wine-shim: Wine 8 lacks ProcessPrng, which Rust binaries import);
#   2. default install (msiexec /i /qn): the panel, its shortcut and licence are
#      installed, the optional gateway is not; then uninstall;
#   3. full install (ADDLOCAL=ALL) with the panel's machine-wide defaults
#      (GATEWAY_URL, TOKEN_FILE, LOCK_CONNECTION): the values are in the registry and
#      the installed panel reads them (`presence-panel.exe --show-settings`); the
#      gateway runs as the PresenceGateway service (with a gateway.toml put in
#      %ProgramData% first, as an administrator would) and the native Linux
#      `presence-gateway check` gets a presence snapshot from it; the service is
#      stopped and started again with `sc`, and logs to %ProgramData%;
#   4. uninstall (msiexec /x /qn): the service, the files, the shortcut and the
#      registry values are gone;
#   5. major upgrade: the same main.wxs built as the next patch version replaces an
#      installed copy (one product left, the service running again, the machine-wide
#      defaults kept without being passed again), and the older MSI is refused over it.
#
# Usage: packaging/smoke-test-msi.sh [path/to.msi]
#   (default: target/msi/ucx-presence-panel-<Cargo.toml version>-x64.msi, from
#   packaging/build-msi.sh). Runs as root on Debian 12; installs wine if needed.
#   KEEP_SMOKE_DIR=1 keeps the temp dir (Wine prefix, logs) for inspection;
#   SKIP_CARGO=1 uses the target/debug/presence-gateway already built.
# Every wait is bounded; exits non-zero with a "smoke-test-msi: ERROR" line on failure.
set -euo pipefail

log() { printf 'smoke-test-msi: %s\n' "$*" >&2; }
die() { printf 'smoke-test-msi: ERROR: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
started=$SECONDS

# --- tools ---------------------------------------------------------------------------
missing=()
command -v wine >/dev/null || missing+=(wine wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v x86_64-w64-mingw32-objdump >/dev/null || missing+=(binutils-mingw-w64-x86-64)
command -v msiinfo >/dev/null || missing+=(msitools)
command -v wixl >/dev/null || missing+=(wixl)
command -v python3 >/dev/null || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root or install them"
    apt-get update -q >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi
command -v wineserver >/dev/null || die "wineserver not found"

# --- the MSI and the native check client -----------------------------------------------
VERSION="$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
print([p for p in json.load(sys.stdin)["packages"] if p["name"] == "presence-panel"][0]["version"])
')" || die "could not read the version from Cargo.toml"
TARGET_DIR="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
MSI="${1:-$TARGET_DIR/msi/ucx-presence-panel-$VERSION-x64.msi}"
[ -f "$MSI" ] || die "$MSI not found: run packaging/build-msi.sh first"
MSI="$(cd "$(dirname "$MSI")" && pwd)/$(basename "$MSI")"

if [ "${SKIP_CARGO:-0}" != 1 ]; then
    log "building the native check client (target/debug/presence-gateway)"
    cargo build -p presence-gateway >&2 || die "cargo build -p presence-gateway failed"
fi
CHECK_BIN="$TARGET_DIR/debug/presence-gateway"
[ -x "$CHECK_BIN" ] || die "$CHECK_BIN not built"

wine_started=$SECONDS

# --- temp dir, Wine prefix, cleanup ----------------------------------------------------
WORK="$(mktemp -d /tmp/ucx-msi-smoke.XXXXXX)"
export WINEPREFIX="$WORK/prefix"
export WINEARCH=win64
export WINEDEBUG=-all
# Native shim first; no Mono/Gecko download prompts; no .desktop files from winemenubuilder.
export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree=;mshtml=;winemenubuilder.exe=d"
# Wine links the prefix's user folders to $HOME: keep that inside the temp dir too.
WINE_HOME="$WORK/home"
mkdir -p "$WINE_HOME"
unset DISPLAY WAYLAND_DISPLAY
GATEWAY_PID=""

w() { HOME="$WINE_HOME" "$@"; }

cleanup() {
    local rc=$?
    if [ -n "$GATEWAY_PID" ] && kill -0 "$GATEWAY_PID" 2>/dev/null; then
        kill "$GATEWAY_PID" 2>/dev/null || true
        sleep 1
        kill -9 "$GATEWAY_PID" 2>/dev/null || true
    fi
    # Ends only this prefix's wineserver and the Wine processes it runs.
    if [ -d "$WINEPREFIX" ]; then
        w timeout 20 wineserver -k 2>/dev/null || true
    fi
    if [ "${KEEP_SMOKE_DIR:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    if [ "$rc" = 0 ]; then
        log "passed in $((SECONDS - started)) s ($((SECONDS - wine_started)) s under Wine)"
    else
        log "FAILED (exit $rc) after $((SECONDS - started)) s"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "creating the Wine prefix in $WINEPREFIX"
w timeout 180 wineboot --init >"$WORK/wineboot.log" 2>&1 \
    || { tail -20 "$WORK/wineboot.log" >&2; die "wineboot --init failed or timed out"; }
w timeout 120 wineserver -w || die "wineserver did not settle after wineboot"
SYSTEM32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$SYSTEM32" ] || die "no $SYSTEM32 after wineboot"

# --- the test-only ProcessPrng shim ------------------------------------------------------
log "building the bcryptprimitives.dll shim"
x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -shared -static-libgcc \
    -o "$WORK/bcryptprimitives.dll" \
    packaging/wine-shim/bcryptprimitives.c packaging/wine-shim/bcryptprimitives.def -ladvapi32 \
    || die "building packaging/wine-shim/bcryptprimitives.dll failed"
cp "$WORK/bcryptprimitives.dll" "$SYSTEM32/bcryptprimitives.dll"

# Everything the binaries import from bcryptprimitives.dll must be in the shim.
msiextract -C "$WORK/msi-content" "$MSI" >/dev/null || die "msiextract $MSI failed"
imports_of() { # imports_of EXE DLL: the functions EXE imports from DLL
    x86_64-w64-mingw32-objdump -p "$1" | awk -v dll="$(echo "$2" | tr '[:upper:]' '[:lower:]')" '
        /^[[:space:]]*DLL Name:/ { cur = tolower($3); next }
        /^[[:space:]]*$/ { cur = "" }
        cur == dll && $1 ~ /^[0-9a-f]+$/ && NF >= 3 { print $3 }'
}
shim_exports="$(x86_64-w64-mingw32-objdump -p "$WORK/bcryptprimitives.dll" \
    | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | sed -n 's/^[[:space:]]*\[ *[0-9]*\] //p')"
while IFS= read -r -d '' exe; do
    for fn in $(imports_of "$exe" bcryptprimitives.dll); do
        grep -qx "$fn" <<<"$shim_exports" \
            || die "$(basename "$exe") imports $fn from bcryptprimitives.dll, which the Wine shim lacks"
    done
done < <(find "$WORK/msi-content" -name '*.exe' -print0)

# --- helpers -----------------------------------------------------------------------------
PF="$WINEPREFIX/drive_c/Program Files/UCX Presence Panel"
# Windows puts a per-machine (ALLUSERS=1) shortcut in the all-users Start menu; Wine 8's
# msi resolves ProgramMenuFolder to the user's Start menu even then. Either is accepted.
START_MENUS=(
    "$WINEPREFIX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/UCX Presence Panel"
    "$WINEPREFIX/drive_c/users/$(id -un)/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/UCX Presence Panel"
)
MSI_WIN="$(w wine winepath -w "$MSI" 2>/dev/null | tr -d '\r')" || die "winepath failed"

msiexec() { # msiexec NAME ARGS...: runs msiexec with a verbose log, bounded in time
    local name=$1
    shift
    log "msiexec $* ($name)"
    local rc=0
    w timeout 300 wine msiexec "$@" /l*v "$(w wine winepath -w "$WORK/$name.log" 2>/dev/null | tr -d '\r')" \
        >"$WORK/$name.out" 2>&1 || rc=$?
    # (with the gateway service running, Wine never goes idle: do not wait for it)
    if ! service_is_registered; then
        w timeout 60 wineserver -w || true
    fi
    if [ "$rc" != 0 ]; then
        [ -f "$WORK/$name.log" ] && tr -d '\000' <"$WORK/$name.log" | tail -30 >&2
        tail -20 "$WORK/$name.out" >&2
        [ "$rc" = 124 ] && die "msiexec $name timed out after 300 s"
        die "msiexec $name failed with exit code $rc"
    fi
}
PRODUCT_CODE="$(msiinfo export "$MSI" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }')"
[ -n "$PRODUCT_CODE" ] || die "no ProductCode in $MSI"
installed_versions() { # the DisplayVersion of each registered "UCX Presence Panel", one a line
    w timeout 60 wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null \
        | tr -d '\r' | python3 -c '
import re, sys
entries, cur = [], None
for line in sys.stdin:
    if line.startswith("HKEY_"):
        cur = {}
        entries.append(cur)
    elif cur is not None:
        m = re.match(r"\s+(\S+)\s+REG_\w+\s*(.*)$", line)
        if m:
            cur[m[1]] = m[2].strip()
for e in entries:
    if e.get("DisplayName") == "UCX Presence Panel":
        print(e.get("DisplayVersion", "?"))
'
}
expect_versions() { # expect_versions WHAT VERSION...: exactly these registered versions
    local want got
    want="$(printf '%s\n' "${@:2}" | sed '/^$/d' | sort)"
    got="$(installed_versions | sort)"
    [ "$got" = "$want" ] || die "$1: registered versions of UCX Presence Panel are [${got//$'\n'/ }], expected [${want//$'\n'/ }]"
}
expect_file() { [ -f "$1" ] || die "$2: $1 is missing"; }
expect_no_file() { [ ! -e "$1" ] || die "$2: $1 is still there"; }
expect_shortcut() {
    local d
    for d in "${START_MENUS[@]}"; do
        [ -f "$d/UCX Presence Panel.lnk" ] && return 0
    done
    die "$1: no Start-menu shortcut 'UCX Presence Panel.lnk' in ${START_MENUS[*]}"
}
expect_no_shortcut() {
    local d
    for d in "${START_MENUS[@]}"; do
        [ ! -e "$d" ] || die "$1: the Start-menu folder $d is still there"
    done
}

service_is_registered() { w timeout 60 wine sc query PresenceGateway >/dev/null 2>&1; }
port_open() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; }
wait_port() { # wait_port PORT open|closed SECONDS WHAT
    local deadline=$((SECONDS + $3))
    while :; do
        if [ "$2" = open ] && port_open "$1"; then return 0; fi
        if [ "$2" = closed ] && ! port_open "$1"; then return 0; fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            [ -f "$GATEWAY_LOG" ] && tail -20 "$GATEWAY_LOG" >&2
            die "$4: 127.0.0.1:$1 is not $2 after $3 s"
        fi
        sleep 1
    done
}
PROGRAM_DATA="$WINEPREFIX/drive_c/ProgramData/UCX/Presence Gateway"
GATEWAY_LOG="$PROGRAM_DATA/logs/presence-gateway.log"
PANEL_KEY='HKLM\SOFTWARE\UCX\Presence Panel'
registry_value() { # registry_value NAME: the panel's machine-wide value, or nothing
    w timeout 60 wine reg query "$PANEL_KEY" /v "$1" 2>/dev/null | tr -d '\r' \
        | awk -v name="$1" '$1 == name { sub(/^[[:space:]]*[^[:space:]]+[[:space:]]+REG_[A-Z_]+[[:space:]]*/, ""); print }'
}

# --- 1. default install: panel only ------------------------------------------------------
msiexec install-default /i "$MSI_WIN" /qn
expect_file "$PF/presence-panel.exe" "default install"
expect_file "$PF/LICENSE.txt" "default install"
expect_shortcut "default install"
expect_no_file "$PF/presence-gateway.exe" "default install (the gateway feature is optional)"
msiexec uninstall-default /x "$MSI_WIN" /qn
expect_no_file "$PF/presence-panel.exe" "uninstall"
expect_no_shortcut "uninstall"
log "default install and uninstall: ok"

# --- 2. full install: the panel's defaults, the gateway as a service -------------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
# As an administrator would: the service's settings before the install starts it.
mkdir -p "$PROGRAM_DATA"
printf 'listen = "127.0.0.1:%s"\nusers = 200\nlog_level = "info"\n' "$PORT" >"$PROGRAM_DATA/gateway.toml"
DEFAULT_URLS="https://ucx01.example.com:50051,https://ucx02.example.com:50051"
msiexec install-all /i "$MSI_WIN" /qn ADDLOCAL=ALL "GATEWAY_URL=$DEFAULT_URLS" \
    'TOKEN_FILE=C:\ProgramData\UCX\panel-token.txt' LOCK_CONNECTION=1
for f in presence-panel.exe presence-gateway.exe LICENSE.txt gateway.example.toml; do
    expect_file "$PF/$f" "install with ADDLOCAL=ALL"
done
expect_shortcut "install with ADDLOCAL=ALL"
log "installed: $(find "$PF" -mindepth 1 -printf '%f ')"
expect_versions "install with ADDLOCAL=ALL" "$VERSION"
# ARPPRODUCTICON: the icon Add/Remove Programs shows is published with the product.
[ -f "$WINEPREFIX/drive_c/windows/Installer/$PRODUCT_CODE/AppIcon.ico" ] || { find "$WINEPREFIX/drive_c/windows/Installer" >&2; die "install: the Add/Remove Programs icon was not published"; }

# The installed binaries start at all under Wine (exit 53 means the shim is not used).
rc=0
w timeout 60 wine "$PF/presence-gateway.exe" --help >"$WORK/gateway-help.out" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
    cat "$WORK/gateway-help.out" >&2
    [ "$rc" = 53 ] && die "presence-gateway.exe --help exited 53 under Wine: bcryptprimitives.dll!ProcessPrng was not found (is the shim in $SYSTEM32?)"
    die "presence-gateway.exe --help exited $rc under Wine"
fi

# --- 3a. the panel's machine-wide defaults ---------------------------------------------------
got="$(registry_value GatewayUrl)"
[ "$got" = "$DEFAULT_URLS" ] || die "GATEWAY_URL: HKLM\\SOFTWARE\\UCX\\Presence Panel\\GatewayUrl is '$got', expected '$DEFAULT_URLS'"
[ "$(registry_value LockConnection)" = 1 ] || die "LOCK_CONNECTION=1 was not written"
rc=0
w timeout 60 wine "$PF/presence-panel.exe" --show-settings >"$WORK/panel-settings.out" 2>&1 || rc=$?
tr -d '\r' <"$WORK/panel-settings.out" >"$WORK/panel-settings.txt"
cat "$WORK/panel-settings.txt" >&2
[ "$rc" = 0 ] || die "presence-panel.exe --show-settings exited $rc under Wine"
grep -qx "gateways: https://ucx01.example.com:50051, https://ucx02.example.com:50051" "$WORK/panel-settings.txt" \
    || die "the installed panel does not use the gateways the MSI was given"
grep -qx 'token file: C:\\ProgramData\\UCX\\panel-token.txt' "$WORK/panel-settings.txt" \
    || die "the installed panel does not use the TOKEN_FILE the MSI was given"
grep -q "locked" "$WORK/panel-settings.txt" || die "the installed panel does not see LOCK_CONNECTION=1"
log "the panel reads the administrator's defaults from the registry: ok"

# --- 3b. the gateway service -------------------------------------------------------------------
service_is_registered || die "the PresenceGateway service is not registered after the install"
wait_port "$PORT" open 90 "the PresenceGateway service started by the install"
log "the service listens on 127.0.0.1:$PORT"
log "running $CHECK_BIN check --endpoint http://127.0.0.1:$PORT"
rc=0
timeout 90 "$CHECK_BIN" check --endpoint "http://127.0.0.1:$PORT" --timeout-secs 60 \
    >"$WORK/check.out" 2>&1 || rc=$?
cat "$WORK/check.out" >&2
[ "$rc" = 0 ] || die "presence-gateway check against the PresenceGateway service failed (exit $rc)"
grep -q "serves 200 colleagues" "$WORK/check.out" || die "the service did not use its gateway.toml (users = 200)"
w timeout 60 wine "$PF/presence-gateway.exe" service status 2>&1 | tr -d '\r' >"$WORK/service-status.txt" || true
cat "$WORK/service-status.txt" >&2
grep -q "state: Running" "$WORK/service-status.txt" || die "presence-gateway service status does not say Running"
grep -q "start: AutoStart" "$WORK/service-status.txt" || die "the service does not start automatically"
[ -s "$GATEWAY_LOG" ] || die "the service wrote no log to $GATEWAY_LOG"
grep -q "starting as the Windows service" "$GATEWAY_LOG" || die "the service log lacks its start"

log "stopping the service (sc stop)"
w timeout 60 wine sc stop PresenceGateway >"$WORK/sc-stop.out" 2>&1 || { cat "$WORK/sc-stop.out" >&2; die "sc stop PresenceGateway failed"; }
wait_port "$PORT" closed 30 "sc stop PresenceGateway"
log "starting the service again (sc start)"
w timeout 60 wine sc start PresenceGateway >"$WORK/sc-start.out" 2>&1 || { cat "$WORK/sc-start.out" >&2; die "sc start PresenceGateway failed"; }
wait_port "$PORT" open 60 "sc start PresenceGateway"
log "the service stops and starts: ok"

# --- 4. uninstall --------------------------------------------------------------------------
msiexec uninstall-all /x "$MSI_WIN" /qn
wait_port "$PORT" closed 30 "uninstall (the service must be stopped)"
! service_is_registered || die "uninstall left the PresenceGateway service registered"
for f in presence-panel.exe presence-gateway.exe LICENSE.txt; do
    expect_no_file "$PF/$f" "uninstall"
done
expect_no_file "$PF" "uninstall (install folder)"
expect_no_shortcut "uninstall"
expect_versions "uninstall"
[ -z "$(registry_value GatewayUrl)" ] || die "uninstall left the panel's machine-wide defaults"
[ -f "$PROGRAM_DATA/gateway.toml" ] || die "uninstall removed the administrator's gateway.toml"
log "uninstall removed the service, the files, the install folder, the Start-menu folder and the defaults (the administrator's gateway.toml stays)"

# --- 5. major upgrade, and no downgrade ----------------------------------------------------
NEXT_VERSION="$(awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }' <<<"$VERSION")"
UP="$WORK/upgrade"
mkdir -p "$UP/bin"
find "$WORK/msi-content" \( -name '*.exe' -o -name LICENSE.txt \) -exec cp {} "$UP/bin/" \;
(cd "$UP" && msiinfo export "$MSI" Icon >/dev/null) || die "msiinfo export Icon failed"
ICON_STREAM="$(find "$UP/Icon" -type f | head -n 1)"
[ -n "$ICON_STREAM" ] || die "no icon in $MSI"
# (wixl 0.101 finds files only by paths relative to its working directory)
cp "$REPO_ROOT/packaging/gateway.example.toml" "$UP/bin/"
(cd "$UP" && wixl -a x64 -D "Version=$NEXT_VERSION" -D BinDir=bin -D "IconFile=${ICON_STREAM#"$UP"/}" \
    -D LicenseFile=bin/LICENSE.txt -D GatewayExample=bin/gateway.example.toml \
    -o next.msi "$REPO_ROOT/packaging/wix/main.wxs" 2>/dev/null) \
    || die "wixl could not build the $NEXT_VERSION MSI for the upgrade test"
NEXT_MSI_WIN="$(w wine winepath -w "$UP/next.msi" 2>/dev/null | tr -d '\r')"

msiexec upgrade-base /i "$MSI_WIN" /qn ADDLOCAL=ALL "GATEWAY_URL=$DEFAULT_URLS"
expect_versions "install $VERSION" "$VERSION"
wait_port "$PORT" open 90 "the service of $VERSION"
msiexec upgrade /i "$NEXT_MSI_WIN" /qn ADDLOCAL=ALL
expect_versions "upgrade to $NEXT_VERSION (the $VERSION product must be removed)" "$NEXT_VERSION"
expect_file "$PF/presence-panel.exe" "upgrade to $NEXT_VERSION"
expect_shortcut "upgrade to $NEXT_VERSION"
[ "$(registry_value GatewayUrl)" = "$DEFAULT_URLS" ] || die "the upgrade lost GATEWAY_URL (it must be read back, not passed again)"
wait_port "$PORT" open 90 "the service after the upgrade to $NEXT_VERSION"
service_is_registered || die "the upgrade left no PresenceGateway service"
log "upgrade $VERSION -> $NEXT_VERSION: ok (service running again, defaults kept)"

log "msiexec /i $MSI_WIN /qn over $NEXT_VERSION (downgrade, must be refused)"
rc=0
w timeout 300 wine msiexec /i "$MSI_WIN" /qn /l*v "$(w wine winepath -w "$WORK/downgrade.log" 2>/dev/null | tr -d '\r')" \
    >"$WORK/downgrade.out" 2>&1 || rc=$?
[ "$rc" = 124 ] && die "the downgrade attempt timed out"
[ "$rc" != 0 ] || die "installing $VERSION over $NEXT_VERSION succeeded: MajorUpgrade should refuse a downgrade"
# Refused by MajorUpgrade: the newer product was detected and the launch condition
# (NOT WIX_DOWNGRADE_DETECTED, with the DowngradeErrorMessage) stopped the install.
# (Wine's log does not carry the message text itself.)
tr -d '\000' <"$WORK/downgrade.log" >"$WORK/downgrade.txt"
if ! grep -aq 'WIX_DOWNGRADE_DETECTED = {' "$WORK/downgrade.txt" \
    || ! grep -aEq 'Action ended .*: LaunchConditions\. Return value [^1]' "$WORK/downgrade.txt"; then
    tail -30 "$WORK/downgrade.txt" >&2
    die "the downgrade failed, but not through MajorUpgrade's downgrade launch condition"
fi
expect_versions "refused downgrade" "$NEXT_VERSION"
log "downgrade refused (msiexec exit $rc): ok"

msiexec upgrade-uninstall /x "$NEXT_MSI_WIN" /qn
wait_port "$PORT" closed 30 "uninstall of $NEXT_VERSION"
expect_no_file "$PF" "uninstall of $NEXT_VERSION"
expect_versions "uninstall of $NEXT_VERSION"
