"""``hadoctor probe listen``: read ha.cf/authkeys, pick the source, summarise, judge, render."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Tuple

from hadoctor.errors import InputError
from hadoctor.parsers.hacf import DEFAULT_UDPPORT
from hadoctor.datums import AUTHKEYS_PATH, HACF_PATH


@dataclass(frozen=True)
class Options:
    pcap: Optional[str] = None
    iface: Optional[str] = None
    ports: Tuple[int, ...] = ()
    seconds: float = 10.0
    hacf: Optional[str] = None
    authkeys: Optional[str] = None
    netns: Optional[str] = None
    fmt: str = "text"
    root: str = "/"


def run(options: Options) -> int:
    from hadoctor.inputs import read_config, under_root
    from hadoctor.parsers.authkeys import parse_authkeys
    from hadoctor.parsers.hacf import parse_hacf
    from hadoctor.probe import listen
    from hadoctor.report.probe_listen import render_listen

    pcap, iface, seconds, netns = options.pcap, options.iface, options.seconds, options.netns
    hacf, authkeys, ports = options.hacf, options.authkeys, list(options.ports)
    config = None
    hacf_path = hacf or under_root(options.root, HACF_PATH)
    if hacf or os.path.exists(hacf_path):
        config = parse_hacf(read_config(hacf_path), hacf_path)
    keys = None
    keys_path = authkeys or under_root(options.root, AUTHKEYS_PATH)
    if authkeys or os.access(keys_path, os.R_OK):
        try:
            keys = parse_authkeys(read_config(keys_path), keys_path)
        except InputError:
            if authkeys:
                raise
    if not ports:
        ports = config.ports() if config is not None else [DEFAULT_UDPPORT]
    nodes = [n.name for n in config.nodes] if config is not None and config.nodes else None
    notes = None
    if pcap:
        from hadoctor.wire.pcap import CaptureNotes

        notes = CaptureNotes()
        packets = listen.pcap_packets(pcap, ports, notes)
        source = f"pcap {pcap}"
    else:
        packets = listen.live_packets(iface=iface, ports=ports, seconds=seconds, netns=netns)
        source = f"live {iface or 'all interfaces'}{' in ' + netns if netns else ''}, {seconds:g} s"
    if not pcap:
        packets = _with_live_view(packets, seconds)
    summary = listen.listen(packets, authkeys=keys, nodes=nodes)
    timings = {}
    if config is not None:
        timings = {"keepalive_ms": config.keepalive.value, "warntime_ms": config.warntime.value,
                   "deadtime_ms": config.deadtime.value}
    verdicts = listen.judge(summary, keepalive_ms=timings.get("keepalive_ms"),
                            warntime_ms=timings.get("warntime_ms"), deadtime_ms=timings.get("deadtime_ms"),
                            udpport=ports[0])
    if notes is not None:
        verdicts += listen.capture_verdicts(notes, ports)
    return render_listen(summary, verdicts, options.fmt, source)


def _with_live_view(packets, seconds: float):
    """A live line on stderr while capturing: packets and senders so far (stdout stays for the report)."""
    import time

    from hadoctor.terminal import console as make_console

    console = make_console(stderr=True)
    senders = set()
    count = 0
    start = time.monotonic()
    with console.status("listening…") as status:
        for packet in packets:
            count += 1
            senders.add(packet.src)
            status.update(f"listening… {count} packet(s) from {len(senders)} address(es), "
                          f"{max(0.0, seconds - (time.monotonic() - start)):.0f} s left")
            yield packet
