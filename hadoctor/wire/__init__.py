"""Heartbeat on the wire: message codec (classic and netstring), authenticators, pcap reading.

Pure code: no sockets. ``codec`` decodes and encodes packets, ``auth`` computes and verifies
authenticators against authkeys, ``pcap`` reads UDP datagrams from libpcap files and
``summary`` turns a stream of decoded packets into per-sender statistics.
"""

from hadoctor.wire.auth import Verdict, verify
from hadoctor.wire.codec import (CLASSIC, NETSTRING, AuthToken, Decoded, Field, Message, WireDecodeError, decode,
                                 encode_classic, encode_netstring, status_message)
from hadoctor.wire.pcap import PcapError, UdpPacket, read_pcap
from hadoctor.wire.summary import Summary, summarize

__all__ = ["CLASSIC", "NETSTRING", "AuthToken", "Decoded", "Field", "Message", "PcapError", "Summary", "UdpPacket",
           "Verdict", "WireDecodeError", "decode", "encode_classic", "encode_netstring", "read_pcap",
           "status_message", "summarize", "verify"]
