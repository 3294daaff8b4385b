"""haresources resources against the node: scripts that exist, services not started at boot."""

from __future__ import annotations

from hadoctor.rulekit import Doc, at, fail, rule


@rule("CFG304", "a haresources resource script is missing or not executable", severity="error",
      needs=("haresources", "resource_scripts"), doc=Doc(
    meaning="ResourceManager runs each resource as /etc/ha.d/resource.d/<script> or /etc/init.d/<script>. On "
            "this node that file is absent or not executable ('Cannot locate resource script').",
    why="When this node must take the group the start fails and heartbeat gives the group up: no service.",
    fix="Install the package that provides the script (drbddisk, the service's init script), fix the name in "
        "haresources, or chmod +x it, on both nodes.",
))
def script_missing(node):
    listing = node.resource_scripts
    for group in node.haresources.groups:
        for res in group.resources:
            found = listing.lookup(res.script)
            if found is None:
                yield fail(f"{res.script} not found in /etc/ha.d/resource.d or /etc/init.d",
                           [at(node, node.haresources.path, res.line, res.token, observed="absent")])
            elif not found.executable:
                yield fail(f"{found.path} is not executable",
                           [at(node, node.haresources.path, res.line, res.token, observed="not executable"),
                            at(node, listing.path, found.line, found.path)])


@rule("CFG305", "a service heartbeat manages also starts at boot", severity="warning",
      needs=("haresources", "boot_services"), doc=Doc(
    meaning="A service named in haresources is enabled at boot (systemctl enable / chkconfig on). heartbeat "
            "must be the only one to start it; at start-up it then finds the resource already active ('Resource "
            "... is active, and should not be!').",
    why="After a reboot the service runs on both nodes at once (it started on its own on the standby).",
    fix="systemctl disable <service> (or chkconfig <service> off) on both nodes; heartbeat starts it.",
))
def service_enabled_at_boot(node):
    boot = node.boot_services
    for group in node.haresources.groups:
        for res in group.resources:
            if res.ip is not None:
                continue
            if boot.enabled(res.script):
                yield fail(f"{res.script} is enabled at boot",
                           [at(node, node.haresources.path, res.line, res.token),
                            at(node, boot.path, boot.lines.get(res.script), f"{res.script} enabled")])


#: resource.d scripts and the arguments ResourceManager may pass them (``script::a1::a2``): (least, most),
#: as each R1 wrapper reads its arguments before the action word (heartbeat's resource.d/*, drbd's drbddisk)
AGENT_ARGS = {
    "Filesystem": (2, 4),   # device directory [fstype [options]]
    "drbddisk": (0, 1),     # [resource] (default: all)
    "MailTo": (1, 2),       # email[,email...] [subject]
    "IPsrcaddr": (1, 1),    # ip
    "SendArp": (1, 1),      # ip/nic
    "Delay": (0, 2),        # [startdelay [stopdelay]]
    "AudibleAlarm": (0, 99),
    "LVM": (1, 1),          # volume group
    "Raid1": (2, 2),        # raidconf device
    "Xinetd": (1, 1),       # service
    "portblock": (3, 3),    # protocol ports action
}


@rule("CFG306", "a haresources resource has arguments its script will refuse", severity="error",
      needs=("haresources",), wants=("resource_scripts",), doc=Doc(
    meaning="ResourceManager runs `<script> <arg1> <arg2> ... start|stop|status` for `script::arg1::arg2`. Each "
            "resource.d wrapper reads a fixed number of arguments before the action word (Filesystem: device, "
            "mount point, optional fstype and options; drbddisk: at most a DRBD resource name), and an LSB init "
            "script takes none: its first argument is read as the action. Filesystem also needs an absolute "
            "mount point.",
    why="The agent stops with a usage error (or an init script prints its usage) at the takeover, so the "
        "resource group is given up on whichever node tries to start it; nothing shows it before then.",
    fix="Write the resource as the agent expects: Filesystem::/dev/drbd0::/srv::ext4, drbddisk::r0, a plain "
        "service name without '::' for an init script (or a wrapper in /etc/ha.d/resource.d that takes the "
        "arguments).",
))
def agent_arguments(node):
    listing = node.resource_scripts
    for group in node.haresources.groups:
        for res in group.resources:
            if res.ip is not None:
                continue  # IPaddr/IPaddr2: the haresources parser checks them as the wrapper does
            ev = [at(node, node.haresources.path, res.line, res.token, observed=len(res.args))]
            found = listing.lookup(res.script) if listing is not None else None
            if found is not None and found.path.startswith("/etc/init.d/") and res.args:
                yield fail(f"{res.token}: {found.path} is an init script, which takes no arguments: it would run "
                           f"'{found.path} {' '.join(res.args)} start' and read '{res.args[0]}' as its action", ev)
                continue
            limits = AGENT_ARGS.get(res.script)
            if limits is None:
                continue
            least, most = limits
            if not least <= len(res.args) <= most:
                want = f"{least}" if least == most else f"{least} to {most}"
                yield fail(f"{res.token}: {res.script} takes {want} argument(s), not {len(res.args)}", ev)
            elif res.script == "Filesystem" and not res.args[1].startswith("/"):
                yield fail(f"{res.token}: the mount point '{res.args[1]}' is not an absolute path", ev)
