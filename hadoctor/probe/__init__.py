"""Active probes: ask the network itself (``hadoctor probe ...``), as opposed to reading artefacts.

Probes send or receive packets, so they live apart from the parsers and rules (which never do
I/O) and are imported only by the commands that run them:

* :mod:`hadoctor.probe.vip` judges who holds each virtual IP (:mod:`~hadoctor.probe.vip_targets`:
  which addresses; :mod:`~hadoctor.probe.neighbours`: ARP/NDP on raw sockets;
  :mod:`~hadoctor.probe.frames`: building and parsing those packets);
* :mod:`hadoctor.probe.listen` receives heartbeat's own traffic (live or from a pcap) and judges it;
* :mod:`hadoctor.probe.exchange` exchanges signed probe messages with a peer running the same probe;
* :mod:`hadoctor.probe.netns` makes sockets inside a named network namespace.
"""
