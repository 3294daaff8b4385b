"""Every other ERROR, CRIT and WARN message of heartbeat's shell scripts (ResourceManager, harc).

Listed from the upstream format strings by a script (outside this project) and checked against them:
the regexes and samples are ours. No rule reads these; the catch-all (LOG090) quotes them unless they
are marked benign. Loaded only when a message is identified (the catch-all, tests), not at start-up.
"""

from __future__ import annotations

from hadoctor.catalogue import M

MESSAGES = (
    M('sh.not_executable', 'error', 'heartbeat-3.0.6:heartbeat/harc, heartbeat-2.1:heartbeat/harc',
      '/[^:\\n]*: not executable',
      '2026/11/25_09:19:22  harc(default)[148]:    ERROR: eth1: eth1/eth1: not executable'),
    M('sh.cannot_execute', 'error', 'heartbeat-3.0.6:heartbeat/harc, heartbeat-2.1:heartbeat/harc',
      '/[^:\\n]*: cannot execute',
      '2026/11/25_09:19:22  harc(default)[148]:    ERROR: eth1: eth1/eth1: cannot execute'),
    M('rm.unable_force_reboot', 'crit', 'heartbeat-3.0.6:heartbeat/lib/ResourceManager.in, heartbeat-2.1:heartbeat/lib/ResourceManager.in',
      'Unable to force reboot\\.',
      '2026/11/25_09:19:22  ResourceManager(default)[148]:    CRIT: Unable to force reboot.'),
)
