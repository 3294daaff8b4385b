"""The one registry of logical data: what each datum is and where it comes from in each context.

In the spirit of insights-core's specs: a rule names ``ha_cf`` and never cares
whether it came from ``/etc/ha.d/ha.cf`` on the live host, from ``node01/ha.cf``
in a folder, or from a bundle. Adding a datum means adding one row here (and,
where reading it is special, one function in :mod:`hadoctor.snapshot.loader`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Dict, Tuple


@dataclass(frozen=True)
class DatumSpec:
    name: str
    description: str
    parser: str  # "module:function" taking (data: bytes, path: str); "" = special loader
    folder_files: Tuple[str, ...] = ()  # candidates inside a node folder, first present wins
    live_paths: Tuple[str, ...] = ()  # candidates on the live host (below --root)

    def parse_function(self) -> Callable:
        module, _, func = self.parser.partition(":")
        return getattr(importlib.import_module(module), func)


_SPECS = (
    DatumSpec("ha_cf", "heartbeat's main configuration (ha.cf)",
              "hadoctor.parsers.hacf:parse_hacf", ("ha.cf",), ("/etc/ha.d/ha.cf",)),
    DatumSpec("haresources", "R1 resource groups (haresources)",
              "hadoctor.parsers.haresources:parse_haresources", ("haresources",), ("/etc/ha.d/haresources",)),
    DatumSpec("authkeys", "authentication keys: method, index, mode and a keyed fingerprint (never the key)",
              "", ("authkeys",), ("/etc/ha.d/authkeys",)),
    DatumSpec("log", "heartbeat's log (logfile from ha.cf, rotated files included), streamed",
              "", ("heartbeat.log", "ha-log", "ha-debug", "messages", "syslog"),
              ("/var/log/ha-log", "/var/log/ha-debug", "/var/log/heartbeat.log")),
    DatumSpec("addresses", "network interfaces and their addresses (ip a, ip -j a, ifconfig, or netlink)",
              "hadoctor.parsers.interfaces:parse_interfaces",
              ("ip-j-a.json", "ip-a.txt", "ip-br-a.txt", "ifconfig.txt")),
    DatumSpec("packages", "installed package versions (dpkg-query -W or rpm -qa)",
              "hadoctor.parsers.packages:parse_packages", ("packages.txt",)),
    DatumSpec("uname", "the node's `uname -n`", "", ("uname-n.txt",)),
    DatumSpec("hosts", "/etc/hosts", "hadoctor.parsers.hosts:parse_hosts", ("hosts",), ("/etc/hosts",)),
    DatumSpec("resource_scripts", "executables in /etc/ha.d/resource.d and /etc/init.d (`x PATH` / `- PATH` lines)",
              "hadoctor.parsers.scripts:parse_script_listing", ("resource-scripts.txt",)),
    DatumSpec("boot_services", "services started at boot (systemctl list-unit-files or chkconfig --list)",
              "hadoctor.parsers.bootservices:parse_boot_services", ("boot-services.txt",)),
    DatumSpec("service_configs", "Asterisk/MOR files of services behind the VIP (sip.conf, iax.conf, h323.conf, "
              "manager.conf, mor.conf), secrets masked", "", ("services/",), ("/etc/asterisk/",)),
    DatumSpec("wire", "heartbeat traffic seen on the wire: a capture or a `probe listen` report, per sender "
              "(hadoctor.snapshot.wire_datum)", "", ("probe-listen.json", "heartbeat.pcap")),
    DatumSpec("firewall", "firewall rules (iptables-save or nft list ruleset)",
              "hadoctor.parsers.firewall:parse_firewall", ("nft-ruleset.txt", "iptables-save.txt")),
)

DATUMS: Dict[str, DatumSpec] = {spec.name: spec for spec in _SPECS}

#: Files whose presence makes a folder a node folder.
NODE_MARKERS = ("ha.cf", "haresources", "authkeys", "heartbeat.log", "ip-a.txt", "ip-j-a.json")

#: Data without which a check is incomplete (exit code 3 when nothing else fails).
CORE_DATA = ("ha_cf", "haresources", "authkeys", "log", "addresses")
