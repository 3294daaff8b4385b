"""``hadoctor probe exchange``: read the authkeys, exchange probe messages with the peer, judge the path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from hadoctor.errors import InputError
from hadoctor.datums import AUTHKEYS_PATH


@dataclass(frozen=True)
class Options:
    peer: str
    port: Optional[int] = None
    authkeys: Optional[str] = None
    netns: Optional[str] = None
    interval_ms: int = 200
    seconds: float = 5.0
    force: bool = False
    fmt: str = "text"


def run(options: Options) -> int:
    from hadoctor.inputs import read_config
    from hadoctor.parsers.authkeys import parse_authkeys
    from hadoctor.probe import exchange
    from hadoctor.report.probe_exchange import render_exchange

    port = options.port
    peer = exchange.check_options(options.peer, port, options.interval_ms, options.seconds)
    keys = None
    path = options.authkeys or AUTHKEYS_PATH
    if options.authkeys or os.access(path, os.R_OK):
        keys = parse_authkeys(read_config(path), path)
        if keys.active is None:
            raise InputError(path, "no usable active key (`auth N` with a valid `N method key` line)",
                             "run `hadoctor parse authkeys FILE` to see why")
    settings = exchange.ExchangeSettings(
        peer=peer, port=port if port is not None else exchange.DEFAULT_PORT, interval_ms=options.interval_ms,
        seconds=options.seconds, netns=options.netns, force=options.force, port_given=port is not None)
    return render_exchange(exchange.run_exchange(settings, keys), options.fmt)
