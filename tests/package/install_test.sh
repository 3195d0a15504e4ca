#!/usr/bin/env bash
# The .deb on a clean Debian 12: a minbase root made by debootstrap from
# Debian's own packages (cached as build/package-root/bookworm.tar, so a
# re-run only unpacks it), `dpkg -i` then `apt-get -f install` in a chroot,
# then `tuphap --version`, `tuphap demo` (and no tuphap process left behind),
# the system user and state directory, and `systemd-analyze verify` on the
# installed units with the root's own systemd. Booted (systemd-nspawn):
# tuphap.service serves a sync; installing the package again (an upgrade)
# restarts it and a running tuphap@node1 instance on the new binary; and
# `dpkg -r` stops both cleanly.
#
#   tests/package/install_test.sh [DIR_WITH_DEB]   (default build/package; as root)
#
# The chroot's mounts live in a private mount namespace (unshare -m): they
# vanish with it on any exit, so removing the root can never reach the
# host's /dev or /proc.
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=$(ls -t "${1:-build/package}"/tuphap_*.deb | head -1)
[ "$(id -u)" -eq 0 ] || { echo "install_test: needs root (debootstrap, chroot)" >&2; exit 1; }
start=$(date +%s)
cache=build/package-root/bookworm.tar
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\) bookworm .*/\2/p' \
  /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
  grep -v security | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

if [ ! -f "$cache" ]; then
  echo "install_test: debootstrap --variant=minbase bookworm from $mirror (cached in $cache)"
  tmp=$(mktemp -d /var/tmp/tuphap-bootstrap.XXXXXX)
  debootstrap --variant=minbase bookworm "$tmp" "$mirror" >build/package-root.log 2>&1 ||
    { tail -5 build/package-root.log; rm -rf "$tmp"; exit 1; }
  mkdir -p "$(dirname "$cache")"
  tar -C "$tmp" -cf "$cache.part" . && mv "$cache.part" "$cache"
  rm -rf "$tmp"
fi

root=$(mktemp -d /var/tmp/tuphap-root.XXXXXX)
trap 'rm -rf --one-file-system "$root"' EXIT
tar -C "$root" -xf "$cache"
chmod 755 "$root"  # mktemp's 700 would stop every user but root at "/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/tuphap.deb"

# Everything below runs in the chroot, inside its own mount namespace.
cat >"$root/tmp/inside.sh" <<'INSIDE'
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
apt-get update -qq >/tmp/apt.log 2>&1 || { tail -5 /tmp/apt.log; fail "apt-get update"; }
# dpkg alone stops at the missing libraries; apt-get -f install brings them
# and finishes configuring tuphap.
dpkg -i /tmp/tuphap.deb >/tmp/dpkg.log 2>&1 || true
apt-get -f install -y -qq >>/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; fail "apt-get -f install"; }
dpkg-query -W -f='${Status}\n' tuphap | grep -q "install ok installed" || fail "tuphap not installed"
echo "install_test: dpkg -i + apt-get -f install: $(dpkg-query -W -f='${Package} ${Version}' tuphap)"
v=$(tuphap --version) || fail "tuphap --version"
echo "install_test: $v"
echo "$v" | grep -Eq '^tuphap [0-9]+\.[0-9]+\.[0-9]+ \(schema [0-9]+, protocol [0-9]+(-[0-9]+)?\)$' || fail "version line: $v"
getent passwd tuphap >/dev/null || fail "no tuphap system user"
[ "$(stat -c '%U %a' /var/lib/tuphap)" = "tuphap 700" ] || fail "/var/lib/tuphap: $(stat -c '%U %a' /var/lib/tuphap)"
echo "install_test: system user tuphap, /var/lib/tuphap tuphap 700"
[ -f /usr/share/man/man1/tuphap.1.gz ] || fail "no man page"
[ -f /usr/share/bash-completion/completions/tuphap ] || fail "no bash completion"
tuphap demo --records 20 >/tmp/demo.log 2>&1 || { tail -20 /tmp/demo.log; fail "tuphap demo"; }
echo "install_test: tuphap demo: $(tail -1 /tmp/demo.log)"
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/tuphap ] && fail "a tuphap process outlived the demo: ${p#/proc/}"
done
echo "install_test: no tuphap process left after the demo"
# The root had no systemd when tuphap went in (postinst used useradd); the
# units are checked by the root's own systemd, installed now.
apt-get install -y -qq --no-install-recommends systemd >>/tmp/apt.log 2>&1 || { tail -5 /tmp/apt.log; fail "apt-get install systemd"; }
# --man=no: the root has no man-db to look up Documentation=man:tuphap(1).
systemd-analyze verify --man=no tuphap.service tuphap@node1.service >/tmp/verify.log 2>&1 ||
  { cat /tmp/verify.log; fail "systemd-analyze verify"; }
[ -s /tmp/verify.log ] && { cat /tmp/verify.log; fail "systemd-analyze verify printed warnings"; }
echo "install_test: systemd-analyze verify tuphap.service tuphap@node1.service: clean"
echo "install_test: systemd-analyze security tuphap.service: $(systemd-analyze security --offline=yes /lib/systemd/system/tuphap.service 2>/dev/null | tail -1)"

# The service as the operator guide sets it up (a hub), for the boot below.
install -m 600 /dev/null /etc/tuphap/passphrase
printf 'install-test-passphrase\n' >/etc/tuphap/passphrase
tuphap --data /var/lib/tuphap --passphrase-file /etc/tuphap/passphrase init --role hub --province 56 >/dev/null
chown -R tuphap:tuphap /var/lib/tuphap
printf 'listen = "tcp://127.0.0.1:7700"\n' >/etc/tuphap/tuphap.toml
systemctl enable tuphap.service >/dev/null 2>&1
# A second node as an instance, tuphap@node1, which the check starts.
install -m 600 /etc/tuphap/passphrase /etc/tuphap/node1.passphrase
tuphap --data /var/lib/tuphap/node1 --passphrase-file /etc/tuphap/node1.passphrase init --role hub --province 01 >/dev/null
chown -R tuphap:tuphap /var/lib/tuphap
printf 'listen = "tcp://127.0.0.1:7701"\n' >/etc/tuphap/node1.toml
cp /tmp/tuphap.deb /var/tmp/tuphap.deb  # for the upgrade and removal in the booted root
cat >/etc/systemd/system/tuphap-check.service <<'UNIT'
[Unit]
Description=install_test: tuphap.service under systemd
After=tuphap.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c '/usr/local/bin/tuphap-check > /var/log/tuphap-check.log 2>&1; systemctl poweroff'
[Install]
WantedBy=multi-user.target
UNIT
mkdir -p /usr/local/bin
cat >/usr/local/bin/tuphap-check <<'CHECK'
#!/bin/sh
# In the booted root: tuphap.service is up as its user and serves a sync.
systemctl is-active --quiet tuphap.service || { systemctl status tuphap.service; journalctl -u tuphap.service; echo "FAIL: tuphap.service not active"; exit 1; }
eval "$(systemctl show -p MainPID -p StatusText -p User -p NRestarts tuphap.service | sed 's/^/svc_/; s/=\(.*\)/="\1"/')"
echo "tuphap.service active: pid $svc_MainPID, user $svc_User, status '$svc_StatusText', restarts $svc_NRestarts"
[ "$(stat -c %U /proc/$svc_MainPID)" = tuphap ] || { echo "FAIL: not running as tuphap"; exit 1; }
[ "$svc_StatusText" = serving ] || { echo "FAIL: no READY=1 status"; exit 1; }
export TUPHAP_PASSPHRASE=commune-passphrase
c=/var/tmp/c
tuphap --data $c init --commune 22333 >/dev/null &&
  tuphap --data $c enroll request --out $c.req >/dev/null &&
  tuphap --data /var/lib/tuphap --passphrase-file /etc/tuphap/passphrase enroll sign $c.req --out $c.enr >/dev/null &&
  tuphap --data $c enroll accept $c.enr >/dev/null || { echo "FAIL: enrolment"; exit 1; }
tuphap --data $c generate --records 30 --commune 22333 --seed 3 > $c.jsonl && tuphap --data $c import $c.jsonl >/dev/null
tuphap --data $c sync tcp://127.0.0.1:7700 --once || { journalctl -u tuphap.service; echo "FAIL: sync with the service"; exit 1; }
# An upgrade (the package installed again) restarts the running nodes on
# the new binary: tuphap.service and the instance tuphap@node1.
systemctl start tuphap@node1.service || { journalctl -u tuphap@node1.service; echo "FAIL: tuphap@node1 did not start"; exit 1; }
pid_main=$(systemctl show -p MainPID --value tuphap.service)
pid_node1=$(systemctl show -p MainPID --value tuphap@node1.service)
dpkg -i /var/tmp/tuphap.deb >/var/tmp/upgrade.log 2>&1 || { cat /var/tmp/upgrade.log; echo "FAIL: dpkg -i over the installed package"; exit 1; }
for u in tuphap.service tuphap@node1.service; do
  systemctl is-active --quiet $u || { journalctl -u $u; echo "FAIL: $u not running after the upgrade"; exit 1; }
done
[ "$(systemctl show -p MainPID --value tuphap.service)" != "$pid_main" ] || { echo "FAIL: tuphap.service not restarted by the upgrade"; exit 1; }
[ "$(systemctl show -p MainPID --value tuphap@node1.service)" != "$pid_node1" ] || { echo "FAIL: tuphap@node1 not restarted by the upgrade"; exit 1; }
echo "upgrade: tuphap.service and tuphap@node1.service restarted on the new binary"
# Removing the package stops every node, instances too, cleanly.
dpkg -r tuphap >/var/tmp/remove.log 2>&1 || { cat /var/tmp/remove.log; echo "FAIL: dpkg -r tuphap"; exit 1; }
for u in tuphap.service tuphap@node1.service; do
  ! systemctl is-active --quiet $u || { echo "FAIL: $u still running after dpkg -r"; exit 1; }
  journalctl -u $u -b --no-pager | grep -q 'tuphap\[.*stopped' || { journalctl -u $u; echo "FAIL: $u: no clean stop"; exit 1; }
done
echo "remove: tuphap.service and tuphap@node1.service stopped"
echo "ok"
CHECK
chmod 755 /usr/local/bin/tuphap-check
systemctl enable tuphap-check.service >/dev/null 2>&1
INSIDE
unshare --mount --propagation private sh -c '
  mount --bind /dev "$1/dev" && mount -t proc proc "$1/proc" && chroot "$1" sh /tmp/inside.sh' \
  sh "$root"

if command -v systemd-nspawn >/dev/null; then
  # --keep-unit --register=no: no systemd or machined on the host needed.
  timeout 300 systemd-nspawn --quiet --keep-unit --register=no -D "$root" --boot \
    >build/package-boot.log 2>&1 || true
  sed 's/^/install_test: booted: /' "$root/var/log/tuphap-check.log" 2>/dev/null || true
  grep -qx ok "$root/var/log/tuphap-check.log" 2>/dev/null ||
    { echo "install_test: FAIL: tuphap.service under systemd (build/package-boot.log)" >&2; exit 1; }
else
  echo "install_test: systemd-nspawn not installed: the service was not booted"
fi
echo "install_test: ok in $(( $(date +%s) - start )) s ($deb)"
