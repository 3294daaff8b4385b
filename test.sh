#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs pytest.
#   sudo ./test.sh            everything, including the real two-node heartbeat lab (needs root)
#   ./test.sh -m 'not lab'    without the lab (no root needed)
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES="heartbeat resource-agents cluster-glue iproute2 nftables iptables tcpdump openssh-server net-tools rpm chromium"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  for p in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "test.sh: installing Debian packages:$missing" >&2
    apt-get update -qq
    # policy-rc.d keeps the package scripts from starting heartbeat/sshd on this host
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "test.sh: not root: lab tests will be skipped (they start real heartbeat daemons in namespaces)" >&2
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'

set +e
python3 -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
