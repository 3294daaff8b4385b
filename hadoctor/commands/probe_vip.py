"""``hadoctor probe vip``: which VIPs to probe (arguments, haresources of this host or of a target folder),
probe them, show who holds each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from hadoctor.errors import InputError, UsageError
from hadoctor.datums import HARESOURCES_PATH


@dataclass(frozen=True)
class Options:
    target: Optional[str] = None
    vips: Tuple[str, ...] = ()
    iface: Optional[str] = None
    netns: Optional[str] = None
    expect_free: bool = False
    timeout: float = 1.0
    count: int = 3
    fmt: str = "text"
    root: str = "/"


def run(options: Options) -> int:
    from hadoctor.report.probe_vip import render_vip_results

    results = probe_target(options.target, root=options.root, vips=options.vips, netns=options.netns,
                           iface=options.iface, expect_free=options.expect_free, timeout=options.timeout,
                           count=options.count)
    return render_vip_results(results, options.fmt)


def probe_target(target: Optional[str] = None, *, root: str = "/", vips: Sequence[str] = (),
                 netns: Optional[str] = None, iface: Optional[str] = None, expect_free: bool = False,
                 timeout: float = 1.0, count: int = 3) -> List:
    """The VIPs of ``vips`` or of haresources (this host's ``/etc/ha.d/haresources``, or the nodes
    of a TARGET folder), probed from this host (or ``netns``); MACs named from the nodes' address
    tables. UsageError when there is no VIP."""
    from hadoctor.probe.vip import probe_vips
    from hadoctor.probe.vip_targets import parse_vip_arg, vip_targets

    if timeout <= 0 or count < 1:
        raise UsageError("the timeout must be positive and the count at least 1")
    owners = None
    targets = [parse_vip_arg(v) for v in vips]
    if target is not None:
        from hadoctor.snapshot.loader import load_target

        cluster = load_target(target, root=root, only=("haresources", "addresses"))
        owners = cluster
        if not targets:
            for node in cluster.nodes:
                haresources = node.find("haresources")
                if haresources is not None:
                    known = {t.address for t in targets}
                    targets += [t for t in vip_targets(haresources) if t.address not in known]
            if not targets:
                raise UsageError(f"{target}: no haresources with an IP resource in any node folder",
                                 "give the VIP with --vip ip[/prefix[/nic]]")
    elif not targets:
        from hadoctor.inputs import read_config, under_root
        from hadoctor.parsers.haresources import parse_haresources

        path = under_root(root, HARESOURCES_PATH)
        try:
            data = read_config(path)
        except InputError as err:
            raise UsageError(f"cannot read the VIPs: {err}", "run it on a cluster node, give a TARGET folder, "
                                                             "or name the VIP with --vip ip[/prefix[/nic]]") from None
        targets = vip_targets(parse_haresources(data, path))
        if not targets:
            raise UsageError(f"{path} names no IP resource (IPaddr/IPaddr2/IPv6addr)",
                             "name the VIP with --vip ip[/prefix[/nic]]")
    return probe_vips(targets, netns=netns, iface=iface, timeout=timeout, count=count,
                      expect_free=expect_free, owners=owners)
