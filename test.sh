#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs pytest.
#   sudo ./test.sh            everything, including the real two-node heartbeat lab (needs root)
#   ./test.sh -m 'not lab'    without the lab (no root needed)
# Extra arguments go to pytest.
#
# Python packages go into a virtual environment of this checkout (.venv/, made with whatever python3
# is on PATH), never into the system Python (Debian marks it EXTERNALLY-MANAGED). As root on Debian or
# Ubuntu it installs the Debian packages the lab needs with apt, with a policy-rc.d that keeps their
# scripts from starting anything, and afterwards disables again the boot services the installation
# enabled (heartbeat, ssh): the host boots as it did before.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES="heartbeat resource-agents cluster-glue iproute2 nftables iptables tcpdump openssh-server net-tools busybox rpm chromium prometheus prometheus-node-exporter mariadb-server mariadb-client stress-ng"
PYTHON=${PYTHON:-python3}
VENV=.venv
POLICY=/usr/sbin/policy-rc.d

say() { echo "test.sh: $*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

wrote_policy=""
snapshot=""          # set once boot_services was recorded (before the first apt-get install)
services_before=""

# services started at boot: init scripts with an S link in a runlevel, systemd units wanted by a target
boot_services() {
  {
    for link in /etc/rc[2-5S].d/S*; do [ -e "$link" ] && echo "sysv ${link##*/S[0-9][0-9]}"; done
    for link in /etc/systemd/system/*.wants/*; do [ -L "$link" ] && echo "unit ${link##*/}"; done
  } 2>/dev/null | sort -u
}

restore_boot_services() {
  [ -n "$snapshot" ] || return 0
  local added kind name
  added=$(comm -13 <(echo "$services_before") <(boot_services))
  [ -n "$added" ] || return 0
  while read -r kind name; do
    case "$kind" in
      sysv) update-rc.d "$name" disable >/dev/null 2>&1 || true ;;   # S links -> K links, and its unit
      unit) command -v systemctl >/dev/null && systemctl --root=/ --quiet disable "$name" >/dev/null 2>&1 || true ;;
    esac
  done <<< "$added"
  local left
  left=$(comm -13 <(echo "$services_before") <(boot_services))
  if [ -n "$left" ]; then
    say "WARNING: could not disable again at boot: $(echo "$left" | tr '\n' ' ')"
  else
    say "disabled again at boot what the installation enabled: $(echo "$added" | awk '{print $2}' | tr '\n' ' ')"
  fi
}

give_back_to_user() {
  # sudo ./test.sh in a user's checkout: what root created here (.venv, caches) goes back to that user
  if [ -n "${SUDO_UID:-}" ] && [ "$(stat -c %u .)" = "$SUDO_UID" ]; then
    find . -path ./.git -prune -o -uid 0 -exec chown -h "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" {} + 2>/dev/null || true
  fi
}

cleanup() {
  if [ -n "$wrote_policy" ]; then rm -f "$POLICY"; fi
  restore_boot_services
  give_back_to_user
}
trap cleanup EXIT

apt_install() {  # packages...: installed without starting or (in the end) enabling any service
  if [ ! -e "$POLICY" ]; then
    # invoke-rc.d and deb-systemd-invoke ask policy-rc.d; 101 = "action forbidden"
    printf '#!/bin/sh\n# written by hadoctor test.sh for the length of an apt-get install\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    wrote_policy=1
  fi
  if [ -z "$snapshot" ]; then services_before=$(boot_services); snapshot=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }; }

if is_root && command -v apt-get >/dev/null; then
  missing=""
  for p in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    say "installing Debian packages:$missing"
    apt_update
    # shellcheck disable=SC2086
    apt_install $missing
  fi
elif ! is_root; then
  say "not root: lab tests will be skipped (they start real heartbeat daemons in namespaces)"
fi

venv_works() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }  # pip: a venv made without ensurepip has none

if ! venv_works; then
  command -v "$PYTHON" >/dev/null || { say "no $PYTHON on PATH: install Python 3.9 or later"; exit 1; }
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    if is_root && command -v apt-get >/dev/null; then
      say "installing Debian package python3-venv (for $VENV)"
      apt_update
      apt_install python3-venv
    fi
    if ! "$PYTHON" -m venv "$VENV"; then
      rm -rf "$VENV"
      say "cannot make a virtual environment with $PYTHON: install python3-venv (sudo apt-get install python3-venv)"
      exit 1
    fi
  fi
fi

"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'

set +e
"$VENV/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  say "pytest collected no tests: that is a failure"
  exit 1
fi
exit "$rc"
