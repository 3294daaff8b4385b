"""``hadoctor drill``: the setup guide's failover test, run and measured.

A drill moves the cluster's resources on purpose (``switchover``, ``failback``) or breaks the
active node on purpose (``crash``, ``link``: only with ``--hard`` and a typed confirmation), while
an observer on the VIP's segment measures what clients see every 100 ms: who answers ARP for the
VIP, ICMP echo, and the TCP/UDP services behind it. Afterwards it puts the cluster back as it
found it and reports the outage per service, the takeover time against ha.cf's deadtime, whether
the VIP was ever on two nodes or on none, and what each node logged meanwhile.

Parts: :mod:`.nodeside` (POSIX sh run on the nodes, as ``fix`` reaches them), :mod:`.observer`
(the 100 ms sampler), :mod:`.analysis` (samples -> outages and verdicts), :mod:`.driver`
(inspect -> refuse or lock -> observe -> act -> restore -> report).
"""
