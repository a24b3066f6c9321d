#!/usr/bin/env bash
# Builds the Windows installer target/msi/ucx-presence-panel-<version>-x64.msi on Linux:
# cross-builds presence-panel.exe and presence-gateway.exe for x86_64-pc-windows-gnu,
# makes the application icon from assets/icons/app-256.png, runs wixl (msitools) on
# packaging/wix/main.wxs, then reads the MSI back and checks it.
#
# Runs on a fresh Debian 12 machine as root, from anywhere in the repository; it
# installs what it lacks (apt-get, rustup target). Exits non-zero with a message
# starting "build-msi: ERROR" on any failure.
#
# Environment:
#   APP_ICON_PNG  icon source (default assets/icons/app-256.png; 256x256 PNG)
#   SKIP_CARGO=1  do not run cargo, package the binaries already in the target dir
set -euo pipefail

TARGET=x86_64-pc-windows-gnu
ICO_SIZES="256,64,48,32,24,16"

log() { printf 'build-msi: %s\n' "$*" >&2; }
die() { printf 'build-msi: ERROR: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
WXS=packaging/wix/main.wxs
APP_ICON_PNG="${APP_ICON_PNG:-assets/icons/app-256.png}"
LICENSE_FILE=LICENSE
GATEWAY_EXAMPLE=packaging/gateway.example.toml

# --- tools ---------------------------------------------------------------------------
# ImageMagick's own convert (a stand-in may shadow it earlier on PATH).
IM_CONVERT=/usr/bin/convert
missing=()
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v x86_64-w64-mingw32-objdump >/dev/null || missing+=(binutils-mingw-w64-x86-64)
command -v wixl >/dev/null || missing+=(wixl)
command -v msiinfo >/dev/null && command -v msiextract >/dev/null || missing+=(msitools)
[ -x "$IM_CONVERT" ] || missing+=(imagemagick)
command -v python3 >/dev/null || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}; run as root or install them"
    apt-get update -q >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi
command -v cargo >/dev/null || die "cargo not found (install Rust with rustup)"
if command -v rustup >/dev/null; then
    rustup target list --installed | grep -qx "$TARGET" || {
        log "adding Rust target $TARGET"
        rustup target add "$TARGET" >&2 || die "rustup target add $TARGET failed"
    }
fi

# --- version, paths ------------------------------------------------------------------
METADATA="$(cargo metadata --no-deps --format-version 1)" || die "cargo metadata failed"
read -r VERSION TARGET_DIR < <(python3 -c '
import json, sys
m = json.load(sys.stdin)
pkg = [p for p in m["packages"] if p["name"] == "presence-panel"]
if not pkg:
    sys.exit("package presence-panel not found in cargo metadata")
print(pkg[0]["version"], m["target_directory"])
' <<<"$METADATA") || die "could not read the version from Cargo.toml"
# A Windows Installer ProductVersion is MAJOR.MINOR.BUILD, all numbers, at most 255.255.65535.
python3 - "$VERSION" <<'EOF' || die "version '$VERSION' in Cargo.toml is not a valid MSI ProductVersion (MAJOR.MINOR.PATCH, numbers only, <=255.255.65535)"
import re, sys
m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", sys.argv[1])
sys.exit(0 if m and int(m[1]) <= 255 and int(m[2]) <= 255 and int(m[3]) <= 65535 else 1)
EOF
# wixl 0.101 only finds files by paths relative to the working directory.
rel() { python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1]))' "$1"; }
BIN_DIR="$(rel "$TARGET_DIR/$TARGET/release")"
OUT_DIR="$(rel "$TARGET_DIR/msi")"
MSI="$OUT_DIR/ucx-presence-panel-$VERSION-x64.msi"
ICO="$OUT_DIR/app.ico"
UPGRADE_CODE="$(python3 -c '
import sys, xml.etree.ElementTree as ET
ns = {"w": "http://schemas.microsoft.com/wix/2006/wi"}
print(ET.parse(sys.argv[1]).getroot().find("w:Product", ns).get("UpgradeCode"))
' "$WXS")" || die "could not read Product/@UpgradeCode from $WXS"
log "version $VERSION, upgrade code $UPGRADE_CODE"

# --- binaries ------------------------------------------------------------------------
if [ "${SKIP_CARGO:-0}" != 1 ]; then
    log "cross-building presence-panel and presence-gateway (release, $TARGET)"
    start=$SECONDS
    cargo build --release --target "$TARGET" -p presence-panel -p presence-gateway \
        || die "cargo build for $TARGET failed"
    log "cross build took $((SECONDS - start)) s"
fi
for exe in presence-panel presence-gateway; do
    [ -f "$BIN_DIR/$exe.exe" ] || die "$BIN_DIR/$exe.exe was not built"
done

# Both must be 64-bit PE files; the panel must be a GUI program (no console window),
# the gateway a console program.
check_pe() {
    python3 - "$1" "$2" <<'EOF'
import struct, sys
path, want = sys.argv[1], int(sys.argv[2])
names = {2: "GUI (windows)", 3: "console"}
with open(path, "rb") as f:
    data = f.read(4096)
if data[:2] != b"MZ":
    sys.exit(f"{path}: not a PE file (no MZ header)")
pe = struct.unpack_from("<I", data, 0x3C)[0]
if data[pe:pe + 4] != b"PE\0\0":
    sys.exit(f"{path}: not a PE file (no PE signature)")
machine = struct.unpack_from("<H", data, pe + 4)[0]
opt = pe + 24
magic = struct.unpack_from("<H", data, opt)[0]
subsystem = struct.unpack_from("<H", data, opt + 68)[0]
if machine != 0x8664 or magic != 0x20B:
    sys.exit(f"{path}: not an x86-64 PE32+ image (machine {machine:#x}, magic {magic:#x})")
if subsystem != want:
    sys.exit(f"{path}: PE subsystem is {subsystem} ({names.get(subsystem, '?')}), expected {want} ({names[want]})")
print(f"{path}: PE32+ x86-64, subsystem {subsystem} ({names[want]})")
EOF
}
check_pe "$BIN_DIR/presence-panel.exe" 2 >&2 \
    || die "presence-panel.exe must be a GUI-subsystem program (#![windows_subsystem = \"windows\"] in release builds)"
check_pe "$BIN_DIR/presence-gateway.exe" 3 >&2 || die "presence-gateway.exe must be a console program"

# They must import only system DLLs: a MinGW runtime DLL would be missing on a clean Windows.
for exe in presence-panel presence-gateway; do
    dlls="$(x86_64-w64-mingw32-objdump -p "$BIN_DIR/$exe.exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | sort -uf)"
    log "$exe.exe imports: $(tr '\n' ' ' <<<"$dlls")"
    if grep -Eiq '^(libgcc|libwinpthread|libstdc\+\+|libssp)' <<<"$dlls"; then
        die "$exe.exe depends on a MinGW runtime DLL that Windows does not have"
    fi
done

# --- icon ----------------------------------------------------------------------------
[ -f "$APP_ICON_PNG" ] || die "icon source $APP_ICON_PNG not found (a 256x256 PNG)"
mkdir -p "$OUT_DIR"
size="$("$IM_CONVERT" "$APP_ICON_PNG" -format '%wx%h' info:)" || die "cannot read $APP_ICON_PNG"
[ "$size" = 256x256 ] || die "$APP_ICON_PNG is $size, expected 256x256"
rm -f "$ICO"
"$IM_CONVERT" "$APP_ICON_PNG" -background none -define icon:auto-resize="$ICO_SIZES" "$ICO" \
    || die "making $ICO failed"
python3 - "$ICO" "$ICO_SIZES" <<'EOF' || die "$ICO does not hold the sizes $ICO_SIZES"
import struct, sys
data = open(sys.argv[1], "rb").read()
reserved, kind, count = struct.unpack_from("<HHH", data, 0)
assert reserved == 0 and kind == 1, "not an ICO file"
sizes = sorted((data[6 + 16 * i] or 256) for i in range(count))
want = sorted(int(s) for s in sys.argv[2].split(","))
assert sizes == want, f"sizes {sizes}, expected {want}"
EOF

# --- MSI -----------------------------------------------------------------------------
rm -f "$MSI"
log "running wixl"
wixl -a x64 \
    -D "Version=$VERSION" \
    -D "BinDir=$BIN_DIR" \
    -D "IconFile=$ICO" \
    -D "LicenseFile=$LICENSE_FILE" \
    -D "GatewayExample=$GATEWAY_EXAMPLE" \
    -o "$MSI" "$WXS" 2> >(grep -v -e "has no property named 'Platform'" -e '^$' >&2) \
    || die "wixl failed on $WXS"
[ -s "$MSI" ] || die "wixl produced no $MSI"

# --- read it back and check it ---------------------------------------------------------
CHECK_DIR="$(mktemp -d)"
trap 'rm -rf "$CHECK_DIR"' EXIT
MSI_ABS="$PWD/$MSI"
for table in File Component Shortcut Upgrade Property Feature FeatureComponents ServiceInstall ServiceControl CustomAction InstallExecuteSequence Registry AppSearch RegLocator CreateFolder; do
    # (in CHECK_DIR: msiinfo export writes a table's binary streams into the working directory)
    (cd "$CHECK_DIR" && msiinfo export "$MSI_ABS" "$table" >"$table.idt") || die "msiinfo export $table failed"
done
msiextract -C "$CHECK_DIR/extract" "$MSI_ABS" >/dev/null || die "msiextract failed"
python3 - "$CHECK_DIR" "$VERSION" "$UPGRADE_CODE" "$BIN_DIR" <<'EOF' || die "the MSI $MSI failed its checks (see above)"
import filecmp, os, sys

check_dir, version, upgrade_code, bin_dir = sys.argv[1:]
errors = []

def table(name):
    with open(os.path.join(check_dir, name + ".idt"), encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t") + [""] * len(cols))) for line in lines[3:] if line]

def long_name(name):  # Filename columns may read "SHORT~1.EXE|long-name.exe"
    return name.split("|")[-1]

def guid(s):
    return s.strip().strip("{}").upper()

files = {long_name(r["FileName"]): r for r in table("File")}
for exe in ("presence-panel.exe", "presence-gateway.exe"):
    if exe not in files:
        errors.append(f"File table has no {exe} (it has {sorted(files)})")
    elif int(files[exe]["FileSize"]) != os.path.getsize(os.path.join(bin_dir, exe)):
        errors.append(f"File table size of {exe} differs from the built binary")
if "LICENSE.txt" not in files:
    errors.append("File table has no LICENSE.txt")

components = {r["Component"]: r for r in table("Component")}
for exe, row in files.items():
    comp = components.get(row["Component_"])
    if comp is None:
        errors.append(f"{exe}: component {row['Component_']} missing")
    elif not int(comp["Attributes"]) & 256:
        errors.append(f"{exe}: component {comp['Component']} is not marked 64-bit")

feature_of = {}
for r in table("FeatureComponents"):
    feature_of.setdefault(r["Component_"], []).append(r["Feature_"])
features = {r["Feature"]: r for r in table("Feature")}
panel_features = feature_of.get(files.get("presence-panel.exe", {}).get("Component_"), [])
gateway_features = feature_of.get(files.get("presence-gateway.exe", {}).get("Component_"), [])
if not any(int(features[f]["Level"]) == 1 for f in panel_features):
    errors.append(f"presence-panel.exe is not in a default (Level 1) feature: {panel_features}")
if not gateway_features or any(int(features[f]["Level"]) <= 1 for f in gateway_features):
    errors.append(f"presence-gateway.exe should be only in an optional feature (Level > 1): {gateway_features}")

panel_key = files.get("presence-panel.exe", {}).get("File")
shortcuts = table("Shortcut")
if not shortcuts:
    errors.append("Shortcut table is empty")
for s in shortcuts:
    if panel_key is None or s["Target"] not in (f"[#{panel_key}]", f"[!{panel_key}]"):
        errors.append(f"shortcut {s['Shortcut']} targets {s['Target']!r}, not the panel's file [#{panel_key}]")

props = {r["Property"]: r["Value"] for r in table("Property")}
if props.get("ProductVersion") != version:
    errors.append(f"ProductVersion is {props.get('ProductVersion')!r}, Cargo.toml says {version!r}")
if guid(props.get("UpgradeCode", "")) != guid(upgrade_code):
    errors.append(f"UpgradeCode is {props.get('UpgradeCode')!r}, main.wxs says {upgrade_code!r}")
if props.get("ALLUSERS") != "1":
    errors.append("ALLUSERS is not 1 (per-machine install)")
if not props.get("ARPPRODUCTICON"):
    errors.append("ARPPRODUCTICON is not set")

# The gateway is a service: installed, started, stopped and removed with its component,
# its recovery set by the deferred, elevated `service configure` after StartServices.
gateway_component = files.get("presence-gateway.exe", {}).get("Component_")
services = table("ServiceInstall")
if len(services) != 1 or services[0]["Name"] != "PresenceGateway":
    errors.append(f"ServiceInstall should hold the one PresenceGateway service: {services}")
else:
    service = services[0]
    if service["Component_"] != gateway_component:
        errors.append("the PresenceGateway service is not installed with presence-gateway.exe")
    if service["Arguments"] != 'service run --data-dir "[GatewayDataFolder]."' or int(service["StartType"]) != 2 or int(service["ServiceType"]) != 16:
        errors.append(f"PresenceGateway should run `service run`, start automatically, own process: {service}")
    if service["StartName"] != "[GATEWAY_ACCOUNT]":
        errors.append("the service account should be the GATEWAY_ACCOUNT property")
controls = table("ServiceControl")
# 1 start on install, 2 stop on install, 32 stop on uninstall, 128 delete on uninstall
if not controls or int(controls[0]["Event"]) & (1 | 2 | 32 | 128) != (1 | 2 | 32 | 128):
    errors.append(f"ServiceControl should start, stop (install and uninstall) and remove the service: {controls}")
actions = {r["Action"]: r for r in table("CustomAction")}
configure = actions.get("ConfigureGatewayService")
if configure is None or configure["Target"] != "service configure" or not int(configure["Type"]) & 2048:
    errors.append(f"the deferred, elevated `service configure` custom action is missing: {actions}")
sequence = {r["Action"]: r for r in table("InstallExecuteSequence")}
if "ConfigureGatewayService" not in sequence or int(sequence["ConfigureGatewayService"]["Sequence"]) <= int(sequence.get("StartServices", {}).get("Sequence", 10**6)):
    errors.append("ConfigureGatewayService must run after StartServices")
if props.get("GATEWAY_ACCOUNT") != "NT AUTHORITY\\LocalService":
    errors.append(f"GATEWAY_ACCOUNT should default to NT AUTHORITY\\LocalService: {props.get('GATEWAY_ACCOUNT')!r}")

# The panel's machine-wide defaults: written from the public properties, and searched
# for first so that an upgrade keeps them.
registry = {r["Name"]: r for r in table("Registry") if r["Key"] == "SOFTWARE\\UCX\\Presence Panel"}
searched = {r["Property"] for r in table("AppSearch")}
for name, prop in (("GatewayUrl", "GATEWAY_URL"), ("TokenFile", "TOKEN_FILE"), ("CaFile", "CA_FILE"), ("LockConnection", "LOCK_CONNECTION")):
    if registry.get(name, {}).get("Value") != f"[{prop}]":
        errors.append(f"HKLM\\SOFTWARE\\UCX\\Presence Panel\\{name} should be written from [{prop}]")
    if prop not in searched:
        errors.append(f"{prop} is not read back from the registry (an upgrade would lose it)")

upgrades = table("Upgrade")
if not upgrades or any(guid(r["UpgradeCode"]) != guid(upgrade_code) for r in upgrades):
    errors.append(f"Upgrade table does not match the UpgradeCode {upgrade_code}: {upgrades}")

# The embedded cabinet holds exactly the binaries that were built.
extracted = {}
for root, _, names in os.walk(os.path.join(check_dir, "extract")):
    for n in names:
        extracted[n] = os.path.join(root, n)
for exe in ("presence-panel.exe", "presence-gateway.exe"):
    if exe not in extracted:
        errors.append(f"{exe} is not in the MSI's cabinet")
    elif not filecmp.cmp(extracted[exe], os.path.join(bin_dir, exe), shallow=False):
        errors.append(f"{exe} in the MSI differs from the built binary")

for e in errors:
    print("build-msi: MSI check failed:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

msi_size=$(stat -c %s "$MSI")
log "MSI checks passed: both executables, shortcut -> panel, ProductVersion $VERSION, UpgradeCode $UPGRADE_CODE"
log "built $MSI ($((msi_size / 1024)) KiB)"
echo "$MSI"
