"""The ``hadoctor`` command line: typer declarations only.

Each command declares its options and hands them to ``run`` of its module in
:mod:`hadoctor.commands`, imported inside the command, so ``hadoctor --help``
and start-up load neither the parsers nor rich nor pyroute2.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import List, Optional

import typer

from hadoctor import __version__
from hadoctor.errors import HadoctorError

HELP = """\
A doctor for Linux-HA Heartbeat clusters (heartbeat 2.x/3.0.x, haresources).

It reads ha.cf, haresources, authkeys, heartbeat's log and `ip a` of each node,
from the live host or from a folder holding one sub-folder per node, and names
what is wrong, with evidence and the fix.

Examples:

  hadoctor snapshot examples/healthy     what hadoctor understood of each node

  hadoctor parse ha.cf /etc/ha.d/ha.cf   parse one file and list its problems

Exit codes: 0 all well, 1 findings at or above the threshold, 2 usage or
input error, 3 incomplete data.
"""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=True,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  rich_markup_mode=None, pretty_exceptions_enable=False)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    nagios = "nagios"
    prometheus = "prometheus"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"



def _split(values: Optional[List[str]]) -> List[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


class Artefact(str, Enum):
    ha_cf = "ha.cf"
    haresources = "haresources"
    authkeys = "authkeys"
    log = "log"
    addresses = "addresses"
    packages = "packages"
    hosts = "hosts"
    firewall = "firewall"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hadoctor {__version__}")
        raise typer.Exit()


_MYSQL_DEFAULTS_HELP = ("The mysql client's option file holding its credentials on {where} (passed to the "
                        "client as --defaults-extra-file; only the path travels, never a password, and nothing "
                        "of it is stored). Default: ~/.my.cnf, else /etc/mysql/debian.cnf.")


def _mysql_defaults(where: str):
    return typer.Option("", "--mysql-defaults-file", metavar="PATH", help=_MYSQL_DEFAULTS_HELP.format(where=where))


@app.callback()
def _root(version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                                 help="Show the version and exit.")) -> None:
    """A doctor for Linux-HA Heartbeat clusters."""


@app.command()
def snapshot(
    target: Optional[str] = typer.Argument(None, help="A folder with one sub-folder per node, a node folder, or a "
                                                      "bundle (.tar.gz). Omit it to examine this host."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text (for people) or json."),
    root: str = typer.Option("/", "--root", help="Live host only: read /etc/ha.d etc. below this folder."),
    mysql_defaults: str = _mysql_defaults("this host (live host only)"),
) -> None:
    """Show what hadoctor understood of each node: every datum, where it came from, its problems."""
    from hadoctor.commands import snapshot as command

    raise typer.Exit(command.run(command.Options(target=target, fmt=fmt.value, root=root,
                                                 mysql_defaults=mysql_defaults)))


@app.command()
def check(
    target: Optional[str] = typer.Argument(None, help="A folder with one sub-folder per node (or one node folder), "
                                                      "a bundle (.tar.gz), or a fleet: a folder of bundles or of "
                                                      "cluster folders. Omit it to examine this host."),
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f",
                                     help="text (for people), json (schema hadoctor-report/1; a fleet: "
                                          "hadoctor-fleet/1), sarif, nagios (plugin output and exit status) or "
                                          "prometheus (text exposition format)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                         help="Write the machine format to FILE atomically (temp file + rename), "
                                              "e.g. into node_exporter's textfile directory."),
    html: Optional[str] = typer.Option(None, "--html", metavar="FILE",
                                       help="Fleet: also write a self-contained HTML page to FILE."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Fleet: clusters checked at once "
                                                                         "(default: every core)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=0.001, metavar="SECONDS",
                                            help="nagios/prometheus: give up after SECONDS with an answer "
                                                 "(UNKNOWN; hadoctor_check_success 0)."),
    select: Optional[List[str]] = typer.Option(None, "--select", "-s", metavar="CODES",
                                               help="Run only these rules: codes or prefixes, comma-separated "
                                                    "(CFG, LOG1, NET001). Opt-in rules need their full code."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", "-i", metavar="CODES",
                                               help="Skip these rules (codes or prefixes)."),
    fail_on: Severity = typer.Option(Severity.warning, "--fail-on",
                                     help="Exit 1 when a finding of this severity OR HIGHER remains "
                                          "(inclusive: warning means warnings and errors)."),
    show_all: bool = typer.Option(False, "--show-all", "-a", help="Also list passed and skipped rules."),
    rules_dir: Optional[List[str]] = typer.Option(None, "--rules-dir", metavar="DIR",
                                                  help="Load extra rule modules from DIR (repeatable)."),
    suppressions: Optional[str] = typer.Option(None, "--suppressions", metavar="FILE",
                                               help="File of suppressions, one per line: "
                                                    "ignore=CODE reason='...' [until=YYYY-MM-DD] [node=NAME]."),
    root: str = typer.Option("/", "--root", help="Live host only: read /etc/ha.d etc. below this folder."),
    mysql_defaults: str = _mysql_defaults("this host (live host only)"),
) -> None:
    """Diagnose a cluster: run every rule and report findings with evidence and the fix.

    A finding tagged (history: FIRST - LAST) is about the past: the logs show it then, but it is not
    the cluster's state now (a healed failover); it is a warning at most. Text output wraps at the
    terminal's width and not at all in a pipe (docs/report-text.md).

    \b
    Exit codes:
      0  no finding at or above --fail-on
      1  findings at or above --fail-on
      2  usage or input error (a message says what to do)
      3  nothing at or above --fail-on, but a node lacks core data
         (ha.cf, haresources, authkeys, log or addresses), so the check is incomplete
    --format nagios exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (incomplete
    data or an input error), as the Nagios plugin API says.
    """
    from hadoctor.commands import check as command

    raise typer.Exit(command.run(command.Options(
        target=target, fmt=fmt.value, select=tuple(_split(select)), ignore=tuple(_split(ignore)),
        fail_on=fail_on.value, show_all=show_all, rules_dirs=tuple(rules_dir or ()),
        suppressions_file=suppressions, root=root, output=output, html=html, jobs=jobs, timeout=timeout,
        mysql_defaults=mysql_defaults)))


@app.command("rules")
def list_rules(
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
    rules_dir: Optional[List[str]] = typer.Option(None, "--rules-dir", metavar="DIR", help="Extra rule modules."),
) -> None:
    """List every rule: code, severity, title."""
    from hadoctor.commands import rules as command

    raise typer.Exit(command.run(command.Options(fmt=fmt.value, rules_dirs=tuple(rules_dir or ()))))


@app.command("rule")
def explain_rule(
    code: str = typer.Argument(..., help="A rule code, e.g. CFG101."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
    rules_dir: Optional[List[str]] = typer.Option(None, "--rules-dir", metavar="DIR", help="Extra rule modules."),
) -> None:
    """Explain one rule: what it means, why it matters, how to fix it."""
    from hadoctor.commands import rule as command

    raise typer.Exit(command.run(command.Options(code=code, fmt=fmt.value, rules_dirs=tuple(rules_dir or ()))))


probe_app = typer.Typer(help="Ask the network: who holds each VIP, what heartbeat sends, whether the path "
                             "between two nodes carries heartbeats.",
                        no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(probe_app, name="probe")


@probe_app.command("vip")
def probe_vip(
    target: Optional[str] = typer.Argument(None, help="A folder of node folders: VIPs from their haresources, MACs "
                                                      "named from their addresses. Omit it to use this host's "
                                                      "/etc/ha.d/haresources."),
    vip: Optional[List[str]] = typer.Option(None, "--vip", metavar="IP[/PREFIX[/NIC]]",
                                            help="Probe this address instead (repeatable)."),
    iface: Optional[str] = typer.Option(None, "--iface", help="Send on this interface (default: the haresources "
                                                              "nic, else the one carrying the VIP's subnet)."),
    netns: Optional[str] = typer.Option(None, "--netns", help="Probe from inside this network namespace."),
    expect_free: bool = typer.Option(False, "--expect-free", help="The VIP must be FREE (before the cluster "
                                                                  "takes it): any answer is a failure."),
    timeout: float = typer.Option(1.0, "--timeout", help="Seconds to wait for answers."),
    count: int = typer.Option(3, "--count", help="ARP requests / neighbour solicitations to send."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
    root: str = typer.Option("/", "--root", help="Read /etc/ha.d below this folder."),
) -> None:
    """Who answers ARP (IPv4) or neighbour solicitation (IPv6) for each VIP: one MAC is healthy, two is
    the VIP on both nodes (or a conflict), none is an outage. Needs root (raw sockets).

    \b
    Exit codes: 0 every VIP held exactly once (or free with --expect-free); 1 a VIP held twice, held by
    nobody, or held although it must be free; 2 usage error; 3 a VIP could not be probed from here.
    """
    from hadoctor.commands import probe_vip as command

    raise typer.Exit(command.run(command.Options(target=target, vips=tuple(vip or ()), iface=iface, netns=netns,
                                                 expect_free=expect_free, timeout=timeout, count=count,
                                                 fmt=fmt.value, root=root)))


@probe_app.command("listen")
def probe_listen(
    pcap: Optional[str] = typer.Option(None, "--pcap", metavar="FILE", help="Read a capture (tcpdump -w) instead "
                                                                            "of the network."),
    iface: Optional[str] = typer.Option(None, "--iface", help="Capture on this interface (default: all)."),
    port: Optional[List[int]] = typer.Option(None, "--port", help="UDP port(s) (default: ha.cf's udpport, mcast "
                                                                  "ports, else 694)."),
    seconds: float = typer.Option(10.0, "--seconds", help="How long to listen (live)."),
    hacf: Optional[str] = typer.Option(None, "--ha-cf", metavar="FILE", help="ha.cf for the node list, port and "
                                                                             "timings (default /etc/ha.d/ha.cf)."),
    authkeys: Optional[str] = typer.Option(None, "--authkeys", metavar="FILE",
                                           help="Verify packets with this authkeys (default /etc/ha.d/authkeys "
                                                "when readable). The key is never shown."),
    netns: Optional[str] = typer.Option(None, "--netns", help="Listen inside this network namespace."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
    root: str = typer.Option("/", "--root", help="Read the default ha.cf and authkeys below this folder."),
) -> None:
    """Receive heartbeat traffic and report per sender: format, loss, restarts, intervals against the
    timings, authentication with our authkeys, and senders from another cluster. Sends nothing.

    \b
    Live capture uses a packet socket (root) and leaves a running heartbeat alone; without root it
    binds the port, which works only where heartbeat does not run.
    Exit codes: 0 all well; 1 a foreign cluster, failed authentication, loss, late heartbeats or
    nothing heard; 2 usage or input error.
    """
    from hadoctor.commands import probe_listen as command

    raise typer.Exit(command.run(command.Options(pcap=pcap, iface=iface, ports=tuple(port or ()), seconds=seconds,
                                                 hacf=hacf, authkeys=authkeys, netns=netns, fmt=fmt.value,
                                                 root=root)))


@probe_app.command("exchange")
def probe_exchange(
    peer: str = typer.Option(..., "--peer", metavar="ADDR", help="The other node's address. The probe sends only "
                                                                  "there (one unicast IPv4 address)."),
    port: Optional[int] = typer.Option(None, "--port", help="UDP port both probes use (default 19694, NOT "
                                                            "heartbeat's 694: give the same --port on both sides)."),
    authkeys: Optional[str] = typer.Option(None, "--authkeys", metavar="FILE",
                                           help="Sign with its active key and verify the peer's packets (default "
                                                "/etc/ha.d/authkeys when readable). The key is never shown."),
    netns: Optional[str] = typer.Option(None, "--netns", help="Probe from inside this network namespace."),
    interval: int = typer.Option(200, "--interval", metavar="MS", help="Milliseconds between sends (min 50)."),
    seconds: float = typer.Option(5.0, "--seconds", help="How long to exchange."),
    force: bool = typer.Option(False, "--force", help="Send even though the port is held here (a running "
                                                      "heartbeat?): from an ephemeral port, never sharing it."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
) -> None:
    """Test the heartbeat path between two nodes: run this on BOTH nodes at once, each naming the other
    with --peer. The probes exchange signed keepalive-shaped messages (t=hadoctor-probe,
    src=hadoctor-probe-<host>: never a node's name, so no real node is impersonated), echo each other's
    sequence numbers and report per direction: sent, received, loss and round trip, and a verdict:
    path OK, blocked one way, key mismatch (packets arrive but do not verify), or nobody answering.

    \b
    Example (node a is 10.0.0.1, node b is 10.0.0.2):
      a# hadoctor probe exchange --peer 10.0.0.2      b# hadoctor probe exchange --peer 10.0.0.1
    It refuses a port a live heartbeat holds on this host (sharing it could steal heartbeats); to watch
    heartbeat's own traffic without sending anything use `hadoctor probe listen`.
    Exit codes: 0 path OK both ways; 1 a blocked direction, key mismatch or nobody answering;
    2 usage or input error (e.g. the port is held here).
    """
    from hadoctor.commands import probe_exchange as command

    raise typer.Exit(command.run(command.Options(peer=peer, port=port, authkeys=authkeys, netns=netns,
                                                 interval_ms=interval, seconds=seconds, force=force,
                                                 fmt=fmt.value)))


bundle_app = typer.Typer(help="Support bundles: collect every node into one archive (secrets masked), check it "
                              "offline with `hadoctor check BUNDLE`, scan it for leaks.",
                         no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                         rich_markup_mode=None)


@bundle_app.command("create")
def create_cmd(
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE.tar.gz",
                                         help="Where to write the bundle (default "
                                              "hadoctor-bundle-<node>-<time>.tar.gz here; never overwritten)."),
    node: Optional[List[str]] = typer.Option(None, "--node", "-n", metavar="NAME",
                                             help="Collect this node (repeatable; this host is always included "
                                                  "when it is a member). Default: ha.cf's node list."),
    since: Optional[str] = typer.Option(None, "--since", metavar="T",
                                        help="Logs from T on: a date and time in each node's local log time "
                                             "('2026-11-25 09:00') or a duration back from each node's clock "
                                             "('24h', '3d'). Default 72h."),
    until: Optional[str] = typer.Option(None, "--until", metavar="T", help="Logs up to T (same forms)."),
    obfuscate: bool = typer.Option(False, "--obfuscate", help="Map IP addresses and host names consistently "
                                                             "(subnets and roles kept); the map goes to --map-file."),
    map_file: Optional[str] = typer.Option(None, "--map-file", metavar="FILE",
                                           help="With --obfuscate: write the private map here (mode 0600; default "
                                                "next to the bundle, FILE.map.json). Keep it; never send it."),
    ssh_config: Optional[str] = typer.Option(None, "--ssh-config", metavar="FILE", help="ssh -F FILE."),
    ssh_option: Optional[List[str]] = typer.Option(None, "--ssh-option", metavar="K=V",
                                                   help="ssh -o K=V (repeatable)."),
    ssh_user: Optional[str] = typer.Option(None, "--ssh-user", metavar="USER", help="ssh -l USER."),
    timeout: float = typer.Option(120.0, "--timeout", metavar="S",
                                  help="Seconds each node may take in all (connect, commands, transfer)."),
    command_timeout: int = typer.Option(20, "--command-timeout", metavar="S",
                                        help="Seconds each command on a node may take (where `timeout` exists)."),
    root: str = typer.Option("/", "--root", metavar="DIR",
                             help="This host only: read /etc/ha.d, /etc/hosts, /var/log ... below DIR (tests)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
    mysql_defaults: str = _mysql_defaults("every node (the same path on each)"),
) -> None:
    """Collect this node (locally) and the other nodes (over ssh: your ssh config, agent and known_hosts
    apply; BatchMode, so never a password prompt) into one .tar.gz that `hadoctor check` reads.

    \b
    The authkeys key never enters the bundle (metadata and a keyed fingerprint only); stonith_host
    parameters and password-like values are masked. Progress goes to stderr; the bundle's path is the
    one line on stdout.
    Exit codes: 0 bundle written, every node collected; 3 bundle written but a node was unreachable
    or incomplete (manifest.json says why); 2 usage or input error.
    """
    from hadoctor.commands import bundle_create as command

    raise typer.Exit(command.run(command.Options(
        output=output, nodes=tuple(node or ()), since=since, until=until, obfuscate=obfuscate, map_file=map_file,
        ssh_config=ssh_config, ssh_options=tuple(ssh_option or ()), ssh_user=ssh_user, timeout=timeout,
        command_timeout=command_timeout, root=root, quiet=quiet, mysql_defaults=mysql_defaults)))


@bundle_app.command("verify")
def verify_cmd(
    bundle: str = typer.Argument(..., metavar="FILE", help="A bundle (.tar.gz)."),
    secret: Optional[List[str]] = typer.Option(None, "--secret", metavar="S",
                                               help="A secret that must not appear (repeatable). Note: argv is "
                                                    "visible to other users; prefer --secrets-file."),
    secrets_file: Optional[List[str]] = typer.Option(None, "--secrets-file", metavar="F",
                                                     help="One secret a line (# comments and blank lines skipped)."),
    map_file: Optional[str] = typer.Option(None, "--map-file", metavar="F",
                                           help="The --obfuscate map: none of its original addresses or names may "
                                                "appear."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json (alone on stdout)."),
) -> None:
    """Scan every byte of every member (nested .gz logs decompressed) for the given secrets and the map's
    original addresses and names.

    \b
    Exit codes: 0 clean; 4 a leak was found (member and line named, never the secret);
    2 unsafe, corrupt or foreign archive, or usage error.
    """
    from hadoctor.commands import bundle_verify as command

    raise typer.Exit(command.run(command.Options(bundle=bundle, secrets=tuple(secret or ()),
                                                 secrets_files=tuple(secrets_file or ()), map_file=map_file,
                                                 fmt=fmt)))


app.add_typer(bundle_app, name="bundle")


@app.command()
def timeline(
    target: Optional[str] = typer.Argument(None, help="A folder with one sub-folder per node (or one node folder). "
                                                      "Omit it to read this host's log."),
    since: Optional[str] = typer.Option(None, "--since", metavar="T", help="Show events from T on (log time, "
                                                                           "e.g. '2026-11-25 09:19:20')."),
    until: Optional[str] = typer.Option(None, "--until", metavar="T", help="Show events up to T."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f",
                                     help="text (for people) or json (schema hadoctor-timeline/1)."),
    svg: Optional[str] = typer.Option(None, "--svg", metavar="FILE", help="Also draw the timeline as SVG to FILE."),
    html_out: Optional[str] = typer.Option(None, "--html", metavar="FILE",
                                           help="Also write a self-contained HTML page (SVG + tables) to FILE."),
    no_skew: bool = typer.Option(False, "--no-skew-correction", help="Show each node's own clock; do not "
                                                                     "correct the estimated offsets."),
    limit: int = typer.Option(1000, "--limit", help="Text: show at most this many events and rows per table (0: all)."),
    root: str = typer.Option("/", "--root", help="Live host only: read /etc/ha.d etc. below this folder."),
    mysql_defaults: str = _mysql_defaults("this host (live host only)"),
) -> None:
    """Merge every node's heartbeat log into one timeline: starts and stops, links, deaths, takeovers,
    who held each resource group when, outages and split-brain overlaps; clock skew is estimated
    and corrected.

    \b
    Exit codes: 0 done; 2 usage or input error.
    """
    from hadoctor.commands import timeline as command

    raise typer.Exit(command.run(command.Options(target=target, since=since, until=until, fmt=fmt.value, svg=svg,
                                                 html=html_out, skew_correction=not no_skew, limit=limit,
                                                 root=root, mysql_defaults=mysql_defaults)))


@app.command()
def fix(
    authkeys: bool = typer.Option(False, "--authkeys", help="Rotate the cluster key (authkeys) on every node."),
    node: Optional[List[str]] = typer.Option(None, "--node", metavar="NAME",
                                             help="A node to include (repeatable; default: ha.cf's node list)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan and a diff with the keys masked; change "
                                                          "nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    force: bool = typer.Option(False, "--force", help="Go on although the cluster is not healthy (a dead node, a "
                                                      "partition, differing keys)."),
    ssh_config: Optional[str] = typer.Option(None, "--ssh-config", metavar="FILE", help="ssh -F FILE for the "
                                                                                         "other nodes."),
    ssh_option: Optional[List[str]] = typer.Option(None, "--ssh-option", metavar="K=V",
                                                   help="ssh -o K=V (repeatable)."),
    root: str = typer.Option("/", "--root", help="Node files below this folder (tests, chroots): /etc/ha.d, "
                                                 "/var/lib/heartbeat and the heartbeat binary."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json (stdout)."),
) -> None:
    """Repair the cluster: rotate the authkeys key without a failover (docs/fix-authkeys.md).

    \b
    plan -> confirm -> backup + stage -> switch -> verify -> final file; any failure rolls every
    node back to its backup. Other nodes are reached with the system ssh client (BatchMode).
    Exit codes: 0 rotated (or an interrupted rotation completed); 1 not rotated, every node back
    on its previous key; 2 usage error, or refused before any change (unhealthy cluster,
    unreachable node); 4 needs attention (rollback failed: see the message).
    """
    from hadoctor.commands import fix as command

    raise typer.Exit(command.run(command.Options(authkeys=authkeys, nodes=tuple(node or ()), dry_run=dry_run,
                                                 yes=yes, force=force, ssh_config=ssh_config,
                                                 ssh_options=tuple(ssh_option or ()), root=root, fmt=fmt.value)))


class DrillKind(str, Enum):
    switchover = "switchover"
    failback = "failback"
    crash = "crash"
    link = "link"


@app.command()
def drill(
    kind: Optional[DrillKind] = typer.Argument(None, help="switchover | failback | crash | link "
                                                          "(crash and link need --hard)."),
    node: Optional[List[str]] = typer.Option(None, "--node", metavar="NAME",
                                             help="Every node of the cluster (repeatable; required: a drill acts "
                                                  "only on the nodes you name)."),
    port: Optional[List[str]] = typer.Option(None, "--port", metavar="PORT/PROTO",
                                             help="A service behind the VIP to watch, e.g. 5060/udp (SIP OPTIONS), "
                                                  "3306/tcp (repeatable; tcp when no protocol is given)."),
    vip: Optional[str] = typer.Option(None, "--vip", help="The address clients use (default: haresources' first "
                                                          "IP)."),
    iface: Optional[str] = typer.Option(None, "--iface", help="Where to ask ARP for the VIP (default: the "
                                                              "interface on its subnet)."),
    hard: bool = typer.Option(False, "--hard", help="Allow the drills that break the active node (crash, link)."),
    confirm: Optional[str] = typer.Option(None, "--confirm", metavar="CLUSTER",
                                          help="The typed confirmation for --hard: the cluster's name (ha.cf's "
                                               "'cluster', else the nodes joined with +, e.g. node01+node02)."),
    force: bool = typer.Option(False, "--force", help="Drill a cluster with a single heartbeat path."),
    recover: bool = typer.Option(False, "--recover", help="Restore what an interrupted drill changed and remove "
                                                          "its lock."),
    wait: Optional[float] = typer.Option(None, "--wait", metavar="SECONDS",
                                         help="How long to wait for the takeover (default: 60 s, or "
                                              "3 x deadtime + 30 s for crash and link)."),
    svg: Optional[str] = typer.Option(None, "--svg", metavar="FILE", help="Also draw the drill: the nodes' "
                                      "timeline over its window with what the clients saw (SVG)."),
    html: Optional[str] = typer.Option(None, "--html", metavar="FILE", help="The same picture in an HTML page."),
    ssh_config: Optional[str] = typer.Option(None, "--ssh-config", metavar="FILE", help="ssh -F FILE for the "
                                                                                         "nodes."),
    ssh_option: Optional[List[str]] = typer.Option(None, "--ssh-option", metavar="K=V",
                                                   help="ssh -o K=V (repeatable)."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json (stdout)."),
) -> None:
    """The setup guide's failover test, run and measured from a host on the VIP's segment.

    \b
    It refuses an unhealthy cluster (a dead node, a partition, the VIP on two
    nodes or on none, a single heartbeat path unless --force), locks every
    node, then watches the VIP every 100 ms (ARP owner, ICMP, each --port)
    while it moves the resources:
      switchover  hb_standby on the node holding the VIP
      failback    hb_takeover on the preferred node (haresources)
      crash       SIGKILL to heartbeat on the active node  (--hard)
      link        heartbeat's UDP ports dropped on it       (--hard)
    and always puts the cluster back as it found it. The report gives the
    outage clients saw per service, the takeover time against deadtime,
    whether the VIP was on two nodes or none, and what each node logged.

    \b
    Example:
      sudo hadoctor drill switchover --node node01 --node node02 --port 5060/udp
    Exit codes: 0 drilled and restored; 1 drilled and restored, with problems
    (see the verdicts); 2 usage error, or refused before any change; 4 not
    restored: the lock stays on the nodes until hadoctor drill --recover.
    """
    from hadoctor.commands.drill import Options, run

    raise typer.Exit(run(Options(kind=kind.value if kind else None, nodes=tuple(node or ()), ports=tuple(port or ()),
                                 vip=vip, iface=iface, hard=hard, confirm=confirm, force=force, recover=recover,
                                 wait_s=wait, ssh_config=ssh_config, ssh_options=tuple(ssh_option or ()),
                                 fmt=fmt.value, svg=svg, html=html)))


@app.command()
def parse(
    kind: Artefact = typer.Argument(..., help="What the file is."),
    path: str = typer.Argument(..., help="The file to parse (.gz/.bz2 are read too)."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text or json."),
) -> None:
    """Parse one file and show the model and its problems (exit 1 when it has errors)."""
    from hadoctor.commands import parse as command

    raise typer.Exit(command.run(command.Options(kind=kind.value, path=path, fmt=fmt.value)))


def main(argv: Optional[list] = None) -> None:
    """Console entry point: every HadoctorError becomes a message on stderr and its exit code."""
    try:
        app(args=argv, prog_name="hadoctor")
    except HadoctorError as err:
        _fail(str(err), err.hint, err.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", "", 130)


def _fail(message: str, hint: str, code: int) -> None:
    from hadoctor.terminal import visible  # a message may quote input: no raw control character

    sys.stderr.write(f"hadoctor: error: {visible(message)}\n")
    if hint:
        sys.stderr.write(f"  hint: {visible(hint)}\n")
    sys.exit(code)
