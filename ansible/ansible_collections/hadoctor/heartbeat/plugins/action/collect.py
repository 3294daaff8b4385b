# -*- coding: utf-8 -*-
# GNU General Public License v2.0+ (see https://www.gnu.org/licenses/old-licenses/gpl-2.0.txt)
"""hadoctor.heartbeat.collect: hadoctor's bundle collection through the play's connection.

The node-side work is hadoctor's own POSIX sh (hadoctor.bundle.collect), sent on stdin of
``/bin/sh -s`` over the connection Ansible already has (become included); everything else (parsing,
masking, scrubbing, trimming logs) happens here on the controller with hadoctor's code, exactly as
``hadoctor bundle create`` does. The output is read as bytes from the connection (not through
_low_level_execute_command, which decodes it and logs it at debug level: the inventory output holds
the authkeys key, kept in memory only).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile
import time

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    node=dict(type="str"),
    since=dict(type="str", default="72h"),
    until=dict(type="str"),
    command_timeout=dict(type="int", default=20),
)


def _connection_shell(action, node):
    from hadoctor.remote import RunResult, Shell

    class ConnectionShell(Shell):
        """hadoctor's Shell over an Ansible connection: the script on stdin of ``/bin/sh -s``."""

        def __init__(self):
            self.node = node
            self.where = "ansible %s" % action._connection.transport

        def run(self, script, *, timeout, stdout=None):
            conn = action._connection
            cmd = "/bin/sh -s"
            if getattr(conn, "become", None):
                cmd = conn.become.build_become_command(cmd, conn._shell)
            t0 = time.monotonic()
            try:
                rc, out, err = conn.exec_command(cmd, in_data=to_bytes(script), sudoable=True)
            except AnsibleConnectionFailure as exc:
                return RunResult(node, self.where, None, b"", b"", time.monotonic() - t0,
                                 error="cannot reach %s: %s" % (node, to_native(exc)))
            out, err = to_bytes(out), to_bytes(err)
            if out.startswith(b"BECOME-SUCCESS-"):
                out = out.split(b"\n", 1)[1] if b"\n" in out else b""
            if stdout is not None:
                stdout.write(out)
                out = b""
            return RunResult(node, self.where, rc, out, err, time.monotonic() - t0)

    return ConnectionShell()


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            from hadoctor.bundle import archive
            from hadoctor.bundle.collect import CreateOptions, Progress, create
            from hadoctor.errors import HadoctorError
        except ImportError as exc:
            result.update(failed=True, msg="hadoctor is not installed on the controller (pip install hadoctor): %s"
                          % to_native(exc))
            return result
        node = (args.get("node") or task_vars.get("inventory_hostname") or "").lower()
        dest = args["dest"]
        work = tempfile.mkdtemp(prefix="hadoctor-ansible-")
        try:
            out = os.path.join(work, "node.tar.gz")
            opts = CreateOptions(output=out, nodes=[node], since=args["since"], until=args.get("until") or None,
                                 command_timeout=args["command_timeout"])
            try:
                dummy, manifest = create(opts, Progress(quiet=True), shells=[_connection_shell(self, node)])
            except HadoctorError as err:
                result.update(failed=True, msg=to_native(err))
                return result
            info = manifest["nodes"].get(node, {})
            status = info.get("status", "failed")
            result.update(changed=False, status=status, items=info.get("items", []))
            if status in ("failed", "unreachable"):
                result.update(failed=True, msg="%s: %s" % (node, info.get("reason") or status))
                return result
            try:
                opened = archive.extract(out)
                path = _replace_folder(str(opened.root / node), dest, node)
            except (HadoctorError, OSError) as err:
                result.update(failed=True, msg="cannot write %s: %s" % (dest, to_native(err)))
                return result
            finally:
                archive.cleanup()
            result["path"] = path
            return result
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _replace_folder(src, dest, node):
    """DEST/<node> becomes a copy of ``src``: staged beside it, then renamed into place."""
    os.makedirs(dest, exist_ok=True)
    final = os.path.join(dest, node)
    staging = tempfile.mkdtemp(dir=dest, prefix=".%s." % node)
    shutil.copytree(src, staging, dirs_exist_ok=True)
    old = None
    if os.path.lexists(final):
        old = tempfile.mkdtemp(dir=dest, prefix=".%s.old." % node)
        os.rename(final, os.path.join(old, "x"))
    os.rename(staging, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return final
