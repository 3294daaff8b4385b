"""``hadoctor bundle create``: collect every node into one archive; progress on stderr, its path on stdout."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Optional, Tuple

from hadoctor.errors import EXIT_INCOMPLETE, EXIT_OK


@dataclass(frozen=True)
class Options:
    output: Optional[str] = None
    nodes: Tuple[str, ...] = ()
    since: Optional[str] = None
    until: Optional[str] = None
    obfuscate: bool = False
    map_file: Optional[str] = None
    ssh_config: Optional[str] = None
    ssh_options: Tuple[str, ...] = ()
    ssh_user: Optional[str] = None
    timeout: float = 120.0
    command_timeout: int = 20
    root: str = "/"
    quiet: bool = False
    mysql_defaults: str = ""


def run(options: Options) -> int:
    from hadoctor.bundle.collect import CreateOptions, Progress, create
    from hadoctor.remote import SshOptions

    ssh = SshOptions.from_cli(options.ssh_config, list(options.ssh_options), user=options.ssh_user,
                              connect_timeout=max(1.0, min(10.0, options.timeout / 3)))
    opts = CreateOptions(output=options.output, nodes=options.nodes, since=options.since, until=options.until,
                         obfuscate=options.obfuscate, map_file=options.map_file, ssh=ssh, timeout=options.timeout,
                         root=options.root, command_timeout=options.command_timeout,
                         mysql_defaults=options.mysql_defaults)
    progress = Progress(quiet=options.quiet)
    path, manifest = create(opts, progress)
    incomplete = [n for n, d in manifest["nodes"].items() if d["status"] != "ok"]
    size = os.path.getsize(path)
    progress.say("bundle", f"wrote {path} ({size:,} bytes, {manifest['collection_s']:.1f} s)"
                 + (f"; map {manifest['_map_file']} (keep it private)" if manifest.get("_map_file") else ""),
                 "green" if not incomplete else "yellow")
    for n in incomplete:
        d = manifest["nodes"][n]
        progress.say(n, f"{d['status']}: {d['reason'] or 'see manifest.json'}", "yellow")
    sys.stdout.write(f"{path}\n")
    return EXIT_INCOMPLETE if incomplete else EXIT_OK
