#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v2.0+ (see https://www.gnu.org/licenses/old-licenses/gpl-2.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: collect
short_description: Collect a Heartbeat node for hadoctor, with POSIX sh only on the node
version_added: "0.1.0"
description:
  - Runs the same POSIX C(sh) scripts as C(hadoctor bundle create) on the node through the play's
    connection (the node needs sh, coreutils, find and tar; no Python), masks and scrubs secrets on the
    controller, and writes the node's folder C(DEST/<node>/) there, ready for C(hadoctor check DEST).
  - The authkeys key is read only to fingerprint it and is never written anywhere.
  - This is an action plugin; it runs on the controller, which needs hadoctor installed.
  - Changes nothing on the node, so it also runs in check mode.
options:
  dest:
    description: Controller folder of the node's cluster; the node's data goes to C(DEST/<node>/).
    type: path
    required: true
  node:
    description: The node's Heartbeat name (default the inventory hostname).
    type: str
  since:
    description: Logs from this time on (node local time C(2026-11-25 09:00)) or this far back (C(72h), C(3d)).
    type: str
    default: 72h
  until:
    description: Logs up to this time (same forms as I(since)).
    type: str
  command_timeout:
    description: Seconds each command on the node may take (where the node has C(timeout)).
    type: int
    default: 20
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
author:
  - hadoctor developers
"""

EXAMPLES = r"""
- name: Collect every node of the group's cluster
  hadoctor.heartbeat.collect:
    dest: "/srv/fleet/{{ group_names | first }}"
    since: 24h
"""

RETURN = r"""
path:
  description: The node folder written on the controller.
  returned: success
  type: str
  sample: /srv/fleet/site-a/node01
status:
  description: How the collection went (ok, partial, failed).
  returned: always
  type: str
  sample: ok
items:
  description: Every collected item with its command, status and error, as in a bundle's manifest.
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            node=dict(type="str"),
            since=dict(type="str", default="72h"),
            until=dict(type="str"),
            command_timeout=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    module.fail_json(msg="hadoctor.heartbeat.collect runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
