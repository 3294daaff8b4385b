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
