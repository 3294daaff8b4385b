"""The one registry of logical data: what each datum is and where it comes from in each context.

In the spirit of insights-core's specs: a rule names ``ha_cf`` and never cares whether it came from
``/etc/ha.d/ha.cf`` on the live host, from ``node01/ha.cf`` in a folder, or from a bundle. Each
:class:`DatumSpec` is the only place that says

* ``files``: its file names in a node folder (first present wins; a bundle unpacks to the same names);
* its live source: ``live_paths`` (a file below ``--root``), ``commands`` (alternatives, the first that
  gives output wins) or ``live_reader`` (a function, e.g. netlink);
* its bundle collection: ``commands`` (each one runs on every node, its output stored under its
  ``file``), or ``bundle_copy`` (``live_paths[0]`` copied as ``files[0]``);
* its ``parser`` (``module:function`` taking ``(data: bytes, path: str)``).

The folder loader, the live loader (:mod:`hadoctor.snapshot.loader`), the bundle collector and its
manifest view (:mod:`hadoctor.bundle`) and obfuscation read these specs; none has a list of its own.
Adding a datum means one spec here, its parser, and its test. Data whose reading needs more than
"parse the first file" (authkeys' mode, the log's rotated siblings, service folders, captures) name
``special`` and have one function in the loader.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from hadoctor.parsers.mysql_collect import NO_CLIENT, NODE_TIME
from hadoctor.parsers.scripts import SEARCH_DIRS

#: Every path on a node hadoctor reads, named once (below --root on the live host and in bundles).
HA_DIR = "/etc/ha.d"  # RESOURCE_DIR comes from the script parser (ResourceManager's search path)
HACF_PATH = HA_DIR + "/ha.cf"
HARESOURCES_PATH = HA_DIR + "/haresources"
AUTHKEYS_PATH = HA_DIR + "/authkeys"
NODEINFO_PATH = HA_DIR + "/nodeinfo"
RESOURCE_DIR = SEARCH_DIRS[0]
HOSTS_PATH = "/etc/hosts"
ASTERISK_DIR = "/etc/asterisk"
#: MySQL/MariaDB option files: /etc/my.cnf then /etc/mysql/my.cnf (the server reads both, in this order), then
#: the include folders Debian, Ubuntu and RHEL packages name (their *.cnf in name order)
MYCNF_PATHS = ("/etc/my.cnf", "/etc/mysql/my.cnf")
MYCNF_DIRS = ("/etc/mysql/conf.d", "/etc/mysql/mariadb.conf.d", "/etc/mysql/mysql.conf.d", "/etc/my.cnf.d")
#: the node's own mysql client credentials, in order: ~/.my.cnf (the client reads it by itself), else
#: Debian's maintenance account. A credential never reaches argv, a snapshot or a bundle.
MYSQL_CLIENT_CONFIG = "/etc/mysql/debian.cnf"

#: heartbeat and its companions, as Debian (dpkg) and RHEL (rpm) name them
PACKAGES = ("heartbeat", "cluster-glue", "resource-agents", "libheartbeat2", "pacemaker", "cluster-glue-libs",
            "heartbeat-libs")


@dataclass(frozen=True)
class Command:
    """One way to produce a datum on a node: a POSIX ``sh`` snippet run with ``$R`` = the root prefix
    ("" on a real node). Its output is the datum's file ``file``; when ``tool`` is not on PATH the
    command is not available there."""

    item: str  # its name in a bundle's manifest
    file: str
    sh: str
    tool: str = ""


@dataclass(frozen=True)
class DatumSpec:
    name: str
    description: str
    parser: str = ""  # "module:function" taking (data: bytes, path: str); "" with special
    files: Tuple[str, ...] = ()  # node-folder names, first present wins
    live_paths: Tuple[str, ...] = ()  # files on the live host (below --root), first present wins
    commands: Tuple[Command, ...] = ()  # live: first with output wins; bundle: every one runs
    live_reader: str = ""  # "module:function" returning the model on the live host (no argument)
    bundle_copy: bool = False  # the bundle copies live_paths[0] as files[0] (masked)
    special: bool = False  # read by a function of its own in the loader
    #: "module:function" taking (text, node name): the client's error output, a bundle item's error or a
    #: node-folder file says the software is not there (absent: the rules skip with its reason) or failed
    client_failure: str = ""
    #: a node-folder sub-folder whose files follow the first file, each after a `### PATH` line (my.cnf.d/:
    #: the files my.cnf includes, as the live host and a bundle collect them into one)
    parts: str = ""

    def parse_function(self) -> Callable:
        return _function(self.parser)

    def live_function(self) -> Callable:
        return _function(self.live_reader)

    def failure(self, text: str, node: str) -> Optional[Tuple[bool, str]]:
        """``(True, reason)``: the software is not on ``node`` (absent); ``(False, error)``: it failed; None."""
        return _function(self.client_failure)(text, node) if self.client_failure else None


def _function(spec: str) -> Callable:
    module, _, func = spec.partition(":")
    return getattr(importlib.import_module(module), func)


_SH_PACKAGES = ("if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f '${Package}\\t${Version}\\n' "
                + " ".join(PACKAGES) + " 2>/dev/null; rc=$?; [ $rc -le 1 ] || exit $rc; "
                "elif command -v rpm >/dev/null 2>&1; then rpm -qa " + " ".join(PACKAGES)
                + "; else echo 'no dpkg-query or rpm' >&2; exit 127; fi")
_SH_BOOT = ("if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then "
            "systemctl list-unit-files --type=service --no-legend; "
            "elif command -v chkconfig >/dev/null 2>&1; then chkconfig --list; "
            "else echo 'neither systemd nor chkconfig' >&2; exit 127; fi")
_SH_SCRIPTS = (f'for f in "$R"{SEARCH_DIRS[0]}/* "$R"{SEARCH_DIRS[1]}/*; do [ -f "$f" ] || continue; g=${{f#"$R"}}; '
               'if [ -x "$f" ]; then echo "x $g"; else echo "- $g"; fi; done')

_SH_OS_RELEASE = ('for f in "$R"/etc/os-release "$R"/etc/redhat-release "$R"/etc/debian_version; do '
                  '[ -f "$f" ] && { echo "### ${f#"$R"}"; cat "$f"; }; done; true')



def _sh_mysql(*queries: str, columns: bool = True) -> str:
    """POSIX sh asking the local MySQL/MariaDB server, the statements tried in order (the first the server
    accepts answers): the node's own client and credentials, batch output, a short connect timeout."""
    tries = [f'"$@" --batch --connect-timeout=5{"" if columns else " -N"} -e \'{q}\'' for q in queries]
    return (_SH_MYSQL_CLIENT + _SH_MYSQL_ARGS + " 2>/dev/null || ".join(tries))


#: a command exiting with this status found nothing to collect on the node (not installed, not configured);
#: its error output says what. The datum is absent, not failed (sysexits' EX_UNAVAILABLE).
ABSENT_STATUS = 69
# mariadb first: MariaDB 11's mysql name prints a deprecation line before anything else
_SH_MYSQL_CLIENT = f"M=$(command -v mariadb || command -v mysql) || {{ echo '{NO_CLIENT}' >&2; exit {ABSENT_STATUS}; }}; "


#: the variable naming the option file --mysql-defaults-file gives (a path on the node, never a password)
MYSQL_DEFAULTS_VAR = "HD_MYSQL_DEFAULTS"
# "$@" := the client ($M) with the node's own credentials: --mysql-defaults-file's file (read after the global
# option files), else ~/.my.cnf (the client reads it by itself), else debian.cnf
_SH_MYSQL_ARGS = (f'if [ -n "${MYSQL_DEFAULTS_VAR}" ]; then set -- "$M" --defaults-extra-file="${MYSQL_DEFAULTS_VAR}"; '
                  f'elif [ -f "$HOME/.my.cnf" ]; then set -- "$M"; elif [ -r {MYSQL_CLIENT_CONFIG} ]; then '
                  f'set -- "$M" --defaults-file={MYSQL_CLIENT_CONFIG}; else set -- "$M"; fi; ')
#: where servers write their error log when the server does not say (log_error unset or the server down)
MYSQL_LOGS = ("/var/log/mysql/error.log", "/var/log/mariadb/mariadb.log", "/var/log/mysqld.log")
# the replication lines of the error log the server names (log_error, relative to datadir), else a usual one;
# the last 2000 of them (the timeline shows them beside heartbeat's events)
_SH_MYSQL_LOG = ("L=; M=$(command -v mariadb || command -v mysql) && { " + _SH_MYSQL_ARGS
                 + "L=$(\"$@\" --batch --connect-timeout=5 -N -e 'SELECT @@log_error' 2>/dev/null); "
                 "case \"$L\" in /*) ;; ''|stderr) L= ;; *) D=$(\"$@\" --batch -N -e 'SELECT @@datadir' 2>/dev/null); "
                 "L=\"${D%/}/${L#./}\" ;; esac; }; "
                 f'for f in "$L" {" ".join(MYSQL_LOGS)}; do [ -n "$f" ] && [ -f "$R$f" ] || continue; '
                 f'echo "### $f ({NODE_TIME}$(date +%z))"; grep -E \'Slave|Replica|slave|replica\' "$R$f" | tail -n 2000; exit 0; done; '
                 f'[ -n "$M" ] || {{ echo "{NO_CLIENT}" >&2; exit {ABSENT_STATUS}; }}; '
                 f'echo "no MySQL error log (log_error unset or not a file; no {", ".join(MYSQL_LOGS)})" >&2; '
                 f'exit {ABSENT_STATUS}')


# my.cnf and the files it includes as one file, each after a `### PATH` line (a comment to the server), in the
# server's reading order: a file, then what its !include / !includedir lines name (their *.cnf in name order,
# each file once), then the distributions' include folders not named; never debian.cnf (a password, no
# server configuration). hd_cnf recurses: its loop list and each file's includes are expanded before a call.
_SH_MYCNF = ("hd_cnf() { for f in \"$@\"; do [ -f \"$f\" ] || continue; case \"$S\" in *\"|$f|\"*) continue;; esac; "
             "S=\"$S|$f|\"; n=1; echo \"### ${f#\"$R\"}\"; cat \"$f\"; echo; "
             "for i in $(sed -n -e 's/^[[:space:]]*!include[[:space:]]\\{1,\\}\\([^[:space:]]*\\).*/\\1/p' "
             "-e 's/^[[:space:]]*!includedir[[:space:]]\\{1,\\}\\([^[:space:]]*[^/[:space:]]\\).*/\\1\\/*.cnf/p' "
             "\"$f\"); do hd_cnf \"$R\"$i; done; done; }; S=; n=; hd_cnf "
             + " ".join(f'"$R"{p}' for p in MYCNF_PATHS) + " " + " ".join(f'"$R"{d}/*.cnf' for d in MYCNF_DIRS)
             + f'; [ -n "$n" ] || {{ echo "no {" or ".join(MYCNF_PATHS)} (MySQL not configured here)" >&2; '
             f'exit {ABSENT_STATUS}; }}')

_MYSQL_FAILURE = "hadoctor.parsers.mysql:client_failure"

_SPECS = (
    DatumSpec("ha_cf", "heartbeat's main configuration (ha.cf)", "hadoctor.parsers.hacf:parse_hacf",
              ("ha.cf",), (HACF_PATH,)),
    DatumSpec("haresources", "R1 resource groups (haresources)", "hadoctor.parsers.haresources:parse_haresources",
              ("haresources",), (HARESOURCES_PATH,)),
    DatumSpec("authkeys", "authentication keys: method, index, mode and a keyed fingerprint (never the key)",
              "hadoctor.parsers.authkeys:parse_authkeys", ("authkeys", "authkeys.json"), (AUTHKEYS_PATH,),
              special=True),
    DatumSpec("log", "heartbeat's log (logfile from ha.cf, rotated files included), streamed", "",
              ("heartbeat.log", "ha-log", "ha-debug", "messages", "syslog"),
              ("/var/log/ha-log", "/var/log/ha-debug", "/var/log/heartbeat.log"), special=True),
    DatumSpec("addresses", "network interfaces and their addresses (ip a, ip -j a, ifconfig, or netlink)",
              "hadoctor.parsers.interfaces:parse_interfaces", ("ip-j-a.json", "ip-a.txt", "ip-br-a.txt", "ifconfig.txt"),
              commands=(Command("ip -j a", "ip-j-a.json", "ip -j a", "ip"),
                        Command("ip a", "ip-a.txt", "ip a", "ip"),
                        Command("ifconfig -a", "ifconfig.txt",
                                "command -v ip >/dev/null 2>&1 && exit 0; ifconfig -a", "ifconfig")),
              live_reader="hadoctor.parsers.interfaces_netlink:read_netlink"),
    DatumSpec("packages", "installed package versions (dpkg-query -W or rpm -qa)",
              "hadoctor.parsers.packages:parse_packages", ("packages.txt",),
              commands=(Command("packages", "packages.txt", _SH_PACKAGES),)),
    DatumSpec("uname", "the node's `uname -n`", "hadoctor.datums:parse_uname", ("uname-n.txt",),
              commands=(Command("uname -n", "uname-n.txt", "uname -n", "uname"),)),
    DatumSpec("hosts", "/etc/hosts", "hadoctor.parsers.hosts:parse_hosts", ("hosts",), (HOSTS_PATH,),
              bundle_copy=True),
    DatumSpec("resource_scripts", f"executables in {' and '.join(SEARCH_DIRS)} (`x PATH` / `- PATH` lines)",
              "hadoctor.parsers.scripts:parse_script_listing", ("resource-scripts.txt",),
              commands=(Command("resource scripts", "resource-scripts.txt", _SH_SCRIPTS),)),
    DatumSpec("boot_services", "services started at boot (systemctl list-unit-files or chkconfig --list)",
              "hadoctor.parsers.bootservices:parse_boot_services", ("boot-services.txt",),
              commands=(Command("boot services", "boot-services.txt", _SH_BOOT),)),
    DatumSpec("service_configs", "Asterisk/MOR files of services behind the VIP (sip.conf, iax.conf, h323.conf, "
              "manager.conf, mor.conf), secrets masked", "", ("services/",), (ASTERISK_DIR + "/",), special=True),
    DatumSpec("wire", "heartbeat traffic seen on the wire: a capture or a `probe listen` report, per sender "
              "(hadoctor.snapshot.wire_datum)", "", ("probe-listen.json", "heartbeat.pcap"), special=True),
    DatumSpec("firewall", "firewall rules (nft list ruleset or iptables-save)",
              "hadoctor.parsers.firewall:parse_firewall", ("nft-ruleset.txt", "iptables-save.txt"),
              commands=(Command("nft list ruleset", "nft-ruleset.txt", "nft list ruleset", "nft"),
                        Command("iptables-save", "iptables-save.txt", "iptables-save", "iptables-save"))),
    DatumSpec("os_release", "the distribution (/etc/os-release, else redhat-release or debian_version)",
              "hadoctor.parsers.osrelease:parse_os_release", ("os-release.txt",),
              commands=(Command("os release", "os-release.txt", _SH_OS_RELEASE),)),
    # MariaDB's multi-source form first, then MySQL 8.0.22+/MariaDB 10.5+'s spelling, then the classic one
    # (MySQL 8.4 refuses it). An empty answer: this server is no replica (a datum without channels).
    DatumSpec("mysql_replica", "MySQL/MariaDB replication state (SHOW SLAVE STATUS\\G or SHOW REPLICA STATUS\\G); "
              "empty: not a replica", "hadoctor.parsers.mysql:parse_replica_status", ("mysql-slave-status.txt",),
              commands=(Command("mysql slave status", "mysql-slave-status.txt", _sh_mysql(
                  "SHOW ALL SLAVES STATUS\\G", "SHOW REPLICA STATUS\\G", "SHOW SLAVE STATUS\\G")),),
              client_failure=_MYSQL_FAILURE),
    DatumSpec("mysql_master", "MySQL/MariaDB binary log position (SHOW MASTER STATUS); empty: binary log off",
              "hadoctor.parsers.mysql:parse_master_status", ("mysql-master-status.txt",),
              commands=(Command("mysql master status", "mysql-master-status.txt", _sh_mysql(
                  "SHOW MASTER STATUS", "SHOW BINARY LOG STATUS")),),
              client_failure=_MYSQL_FAILURE),
    DatumSpec("mysql_variables", "MySQL/MariaDB server variables (mysql -N -e 'SHOW GLOBAL VARIABLES')",
              "hadoctor.parsers.mysql:parse_variables", ("mysql-variables.txt",),
              commands=(Command("mysql variables", "mysql-variables.txt", _sh_mysql("SHOW GLOBAL VARIABLES",
                                                                                    columns=False)),),
              client_failure=_MYSQL_FAILURE),
    DatumSpec("mysql_log", "MySQL/MariaDB error log: the replication threads' starts, stops and errors",
              "hadoctor.parsers.mysqllog:parse_mysql_log", ("mysql-error-log.txt",),
              commands=(Command("mysql error log", "mysql-error-log.txt", _SH_MYSQL_LOG),)),
    DatumSpec("my_cnf", "MySQL/MariaDB option files (my.cnf, then the files its !include/!includedir name and "
              "the include folders' *.cnf, each after a `### PATH` line), passwords masked",
              "hadoctor.parsers.mysql:parse_mycnf", ("my.cnf",),
              commands=(Command("my.cnf", "my.cnf", _SH_MYCNF),), parts="my.cnf.d/"),
)

DATUMS: Dict[str, DatumSpec] = {spec.name: spec for spec in _SPECS}

#: Files whose presence makes a folder a node folder.
NODE_MARKERS = ("ha.cf", "haresources", "authkeys", "heartbeat.log", "ip-a.txt", "ip-j-a.json")

#: Data without which a check is incomplete (exit code 3 when nothing else fails).
CORE_DATA = ("ha_cf", "haresources", "authkeys", "log", "addresses")

#: Why a datum is missing (beside the text saying so).
ABSENT = "absent"  # nothing there to read: no such file, not in this snapshot, no tool to run
UNREADABLE = "unreadable"  # it is there but could not be read (permission, not a regular file, too big)
FAILED = "failed"  # collecting it failed (a command's error or timeout, an unreachable node)


def parse_uname(data: bytes, path: str = "uname -n") -> str:
    """``uname -n`` output: the first line, stripped.

    >>> parse_uname(b"node01\\n")
    'node01'
    """
    return data.decode("utf-8", "replace").strip()


#: What a bundle keeps for people beside the data: no rule reads these (they are no datums), ``bundle create``
#: runs them on every node as it runs the datums' commands.
BUNDLE_EXTRAS: Tuple[Command, ...] = (
    Command("routes", "routes.txt", "if command -v ip >/dev/null 2>&1; then ip route show table all; "
                                    "ip -6 route show table all; else netstat -rn; fi"),
    Command("uname -a", "uname-a.txt", "uname -a", "uname"),
    Command("ip6tables-save", "ip6tables-save.txt", "ip6tables-save", "ip6tables-save"),
    Command("heartbeat binaries", "ha-bin.txt",
            "for d in /usr/lib/heartbeat /usr/lib64/heartbeat /usr/libexec/heartbeat /etc/init.d/heartbeat "
            "/lib/systemd/system/heartbeat.service /usr/lib/systemd/system/heartbeat.service; do [ -e \"$d\" ] && "
            "ls -ld \"$d\"; done; for b in /usr/lib/heartbeat/heartbeat /usr/lib64/heartbeat/heartbeat "
            "/usr/libexec/heartbeat/heartbeat; do [ -x \"$b\" ] && echo \"HA_BIN $b\"; done; true"),
    Command("cl_status", "cl_status.txt",
            "cl_status hbstatus || exit $?; echo '## listnodes'; for n in $(cl_status listnodes); do "
            "echo \"$n $(cl_status nodestatus \"$n\")\"; done; echo '## rscstatus'; cl_status rscstatus", "cl_status"),
)


def all_commands() -> List[Command]:
    """Every datum's commands, in registry order (the bundle runs them all on each node)."""
    return [c for spec in _SPECS for c in spec.commands]


def bundle_files(name: str) -> Tuple[str, ...]:
    """The files of a bundle that feed datum ``name`` (for its missing-data reasons)."""
    spec = DATUMS[name]
    return tuple(dict.fromkeys([c.file for c in spec.commands] + [f.rstrip("/") for f in spec.files]))


def parsed_data(only: Optional[set] = None) -> List[DatumSpec]:
    """The data a plain parser reads from the first present file (the loader's generic path)."""
    return [s for s in _SPECS if s.parser and not s.special and (only is None or s.name in only)]
