"""cluster-glue 1.0.12's stonith library and plugins (heartbeat R1 clusters configure them with
``stonith_host``); they log through heartbeat's process or the ``stonith`` command."""

from __future__ import annotations


MESSAGES: tuple = ()  # every stonith message is in listed/stonith.py
