"""``hadoctor bundle verify``: scan a bundle for the given secrets and the obfuscation map's originals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from hadoctor.errors import UsageError


@dataclass(frozen=True)
class Options:
    bundle: str
    secrets: Tuple[str, ...] = ()
    secrets_files: Tuple[str, ...] = ()
    map_file: Optional[str] = None
    fmt: str = "text"


def run(options: Options) -> int:
    from hadoctor.bundle.verify import load_map, load_secrets, scan
    from hadoctor.report.bundle_verify import render_scan

    if options.fmt not in ("text", "json"):
        raise UsageError(f"--format {options.fmt!r}", "use text or json")
    secrets = load_secrets(list(options.secrets), list(options.secrets_files))
    addresses, names = load_map(options.map_file)
    # with none of them, the credential forms bundle create masks are still looked for
    report = scan(options.bundle, secrets, addresses, names)
    render_scan(report, options.fmt)
    return report.exit_code
