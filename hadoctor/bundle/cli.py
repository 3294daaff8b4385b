"""``hadoctor bundle create|verify``: the typer sub-app (imports stay light; the work is imported lazily)."""

from __future__ import annotations

from typing import List, Optional

import typer

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
    from hadoctor.bundle.collect import CreateOptions, Progress, create
    from hadoctor.remote import SshOptions

    ssh = SshOptions.from_cli(ssh_config, ssh_option, user=ssh_user,
                              connect_timeout=max(1.0, min(10.0, timeout / 3)))
    opts = CreateOptions(output=output, nodes=tuple(node or ()), since=since, until=until, obfuscate=obfuscate,
                         map_file=map_file, ssh=ssh, timeout=timeout, root=root, command_timeout=command_timeout)
    progress = Progress(quiet=quiet)
    path, manifest = create(opts, progress)
    incomplete = [n for n, d in manifest["nodes"].items() if d["status"] != "ok"]
    import os

    size = os.path.getsize(path)
    progress.say("bundle", f"wrote {path} ({size:,} bytes, {manifest['collection_s']:.1f} s)"
                 + (f"; map {manifest['_map_file']} (keep it private)" if manifest.get("_map_file") else ""),
                 "green" if not incomplete else "yellow")
    for n in incomplete:
        d = manifest["nodes"][n]
        progress.say(n, f"{d['status']}: {d['reason'] or 'see manifest.json'}", "yellow")
    typer.echo(path)
    raise typer.Exit(3 if incomplete else 0)


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
    from hadoctor.bundle.verify import load_map, load_secrets, render, verify
    from hadoctor.errors import UsageError

    if fmt not in ("text", "json"):
        raise UsageError(f"--format {fmt!r}", "use text or json")
    secrets = load_secrets(secret or [], secrets_file or [])
    addresses, names = load_map(map_file)
    if not secrets and not addresses and not names:
        raise UsageError("nothing to look for", "give --secret, --secrets-file and/or --map-file")
    report = verify(bundle, secrets, addresses, names)
    render(report, fmt)
    raise typer.Exit(report.exit_code)
