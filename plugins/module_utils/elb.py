# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud side's health before traffic reaches it: the ELB's own view (target health of ALB/NLB
target groups, instance health of a classic ELB) and a real HTTP(S) probe of the endpoint with the
app's Host header, SNI and CA verification, the same check HAProxy makes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket
import ssl
import time

from ansible.module_utils.six.moves import http_client

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import AwsError, AWS_ARGUMENT_SPEC, \
    aws_client, aws_problems, call, paginate
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import is_ip_address

LOAD_BALANCER_TYPES = ("auto", "application", "network", "gateway", "classic")
ELB_NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
TG_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$")
HOST_PATTERN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
                          r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$")
PATH_PATTERN = re.compile(r"^/[\x21-\x7e]*$")
HEALTHY = "healthy"
CLASSIC_HEALTHY = "InService"

PROBE_SPEC = dict(
    address=dict(type="str"),
    port=dict(type="int", default=443),
    scheme=dict(type="str", choices=["https", "http"], default="https"),
    path=dict(type="str", default="/"),
    host=dict(type="str"),
    sni=dict(type="str"),
    ca_file=dict(type="path"),
    timeout=dict(type="float", default=5.0),
    expect_status=dict(type="list", elements="int", default=[200]),
)

ARGUMENT_SPEC = dict(
    load_balancer=dict(type="str", required=True),
    load_balancer_type=dict(type="str", choices=list(LOAD_BALANCER_TYPES), default="auto"),
    target_groups=dict(type="list", elements="str", default=[]),
    min_healthy=dict(type="int", default=1),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=60),
    wait_interval=dict(type="float", default=2.0),
    probe=dict(type="dict", options=PROBE_SPEC),
    **AWS_ARGUMENT_SPEC
)


class ElbError(CloudshiftError):
    pass


def input_problems(params):
    """Every bad value among the options, each naming it; nothing reaches AWS before this is empty."""
    problems = aws_problems(params)
    name = params.get("load_balancer") or ""
    if not ELB_NAME_PATTERN.match(name):
        problems.append("invalid load_balancer %r: 1-32 letters, digits and hyphens, not starting or ending "
                        "with a hyphen" % name)
    for group in params.get("target_groups") or []:
        if not (ELB_NAME_PATTERN.match(group) or TG_ARN_PATTERN.match(group)):
            problems.append("invalid target group %r: a target group name or ARN" % group)
    if params.get("target_groups") and params.get("load_balancer_type") == "classic":
        problems.append("target_groups do not go with a classic load balancer (it has instances, not target groups)")
    if not 0 <= (params.get("min_healthy") if params.get("min_healthy") is not None else 1) <= 1000:
        problems.append("invalid min_healthy %r: 0 to 1000" % params.get("min_healthy"))
    if not 0 <= params.get("wait_timeout", 0) <= 3600:
        problems.append("invalid wait_timeout %r: 0 to 3600 seconds" % params.get("wait_timeout"))
    if not 0.1 <= params.get("wait_interval", 2.0) <= 60:
        problems.append("invalid wait_interval %r: 0.1 to 60 seconds" % params.get("wait_interval"))
    probe = params.get("probe")
    if probe:
        problems.extend(probe_problems(probe))
    return problems


def probe_problems(probe):
    problems = []
    for key in ("address", "host", "sni"):
        value = probe.get(key)
        if value is not None and not HOST_PATTERN.match(value) and not is_ip_address(value):
            problems.append("invalid probe %s %r: a host name or an IP address" % (key, value))
    if not 1 <= (probe.get("port") or 0) <= 65535:
        problems.append("invalid probe port %r: 1 to 65535" % probe.get("port"))
    if not PATH_PATTERN.match(probe.get("path") or ""):
        problems.append("invalid probe path %r: it starts with / and holds no space or control character"
                        % probe.get("path"))
    if not 0 < (probe.get("timeout") or 0) <= 60:
        problems.append("invalid probe timeout %r: above 0, at most 60 seconds" % probe.get("timeout"))
    for status in probe.get("expect_status") or []:
        if not 100 <= status <= 599:
            problems.append("invalid probe expect_status %r: an HTTP status 100-599" % status)
    if not probe.get("expect_status"):
        problems.append("probe expect_status is empty: give the statuses a healthy endpoint answers")
    return problems


# -- the ELB's own view ----------------------------------------------------------------------

def find_load_balancer(params):
    """(kind, description): an elbv2 load balancer (application/network/gateway) or a classic one."""
    name, wanted = params["load_balancer"], params.get("load_balancer_type") or "auto"
    region = params.get("region")
    if wanted != "classic":
        elbv2 = aws_client(params, "elbv2")
        try:
            found = call("describe load balancer %s" % name, elbv2.describe_load_balancers,
                         Names=[name])["LoadBalancers"][0]
        except AwsError as exc:
            if exc.code not in ("LoadBalancerNotFound", "ValidationError"):
                raise
            found = None
        if found is not None:
            if wanted not in ("auto", found.get("Type")):
                raise ElbError("load balancer %s is of type %s, not %s" % (name, found.get("Type"), wanted))
            return "elbv2", found
        if wanted != "auto":
            raise ElbError("no %s load balancer named %s in %s" % (wanted, name, region))
    classic = aws_client(params, "elb")
    try:
        found = call("describe classic load balancer %s" % name, classic.describe_load_balancers,
                     LoadBalancerNames=[name])["LoadBalancerDescriptions"][0]
    except AwsError as exc:
        if exc.code not in ("LoadBalancerNotFound", "AccessPointNotFound"):
            raise
        raise ElbError("no load balancer named %s in %s (looked for %s)"
                       % (name, region, "a classic one" if wanted == "classic"
                          else "application/network/gateway and classic ones"))
    return "classic", found


def load_balancer_summary(kind, found):
    if kind == "classic":
        return {"name": found["LoadBalancerName"], "type": "classic", "dns_name": found.get("DNSName"),
                "hosted_zone_id": found.get("CanonicalHostedZoneNameID"), "state": None, "arn": None}
    return {"name": found["LoadBalancerName"], "type": found.get("Type"), "dns_name": found.get("DNSName"),
            "hosted_zone_id": found.get("CanonicalHostedZoneId"), "state": found.get("State", {}).get("Code"),
            "arn": found.get("LoadBalancerArn")}


def target_group_health(params, load_balancer):
    """[{name, arn, targets: [{id, port, state, reason, description}]}] of the wanted (or every) target group."""
    elbv2 = aws_client(params, "elbv2")
    attached = paginate(elbv2, "describe_target_groups", "TargetGroups",
                        "list the target groups of load balancer %s" % load_balancer["name"],
                        LoadBalancerArn=load_balancer["arn"])
    wanted = params.get("target_groups") or []
    groups = []
    for name in wanted:
        match = [group for group in attached if name in (group["TargetGroupName"], group["TargetGroupArn"])]
        if not match:
            raise ElbError("target group %s is not attached to load balancer %s (attached: %s)"
                           % (name, load_balancer["name"],
                              ", ".join(group["TargetGroupName"] for group in attached) or "none"))
        groups.append(match[0])
    if not wanted:
        groups = attached
    if not groups:
        raise ElbError("load balancer %s has no target group" % load_balancer["name"])
    result = []
    for group in groups:
        described = call("read the target health of target group %s" % group["TargetGroupName"],
                         elbv2.describe_target_health, TargetGroupArn=group["TargetGroupArn"])
        targets = []
        for item in described.get("TargetHealthDescriptions", []):
            health = item.get("TargetHealth", {})
            targets.append({"id": item["Target"]["Id"], "port": item["Target"].get("Port"),
                            "state": health.get("State"), "reason": health.get("Reason"),
                            "description": health.get("Description")})
        result.append({"name": group["TargetGroupName"], "arn": group["TargetGroupArn"],
                       "health_check_path": group.get("HealthCheckPath"), "targets": targets})
    return result


def classic_instance_health(params, load_balancer):
    classic = aws_client(params, "elb")
    described = call("read the instance health of classic load balancer %s" % load_balancer["name"],
                     classic.describe_instance_health, LoadBalancerName=load_balancer["name"])
    targets = [{"id": item["InstanceId"], "port": None,
                "state": HEALTHY if item.get("State") == CLASSIC_HEALTHY else (item.get("State") or "unknown"),
                "reason": item.get("ReasonCode") if item.get("ReasonCode") not in (None, "N/A") else None,
                "description": item.get("Description") if item.get("Description") not in (None, "N/A") else None}
               for item in described.get("InstanceStates", [])]
    return [{"name": load_balancer["name"], "arn": None, "health_check_path": None, "targets": targets}]


def group_problems(groups, min_healthy):
    """Pure: the problems of each group (too few healthy targets, none registered), naming the targets."""
    problems = []
    for group in groups:
        healthy = [target for target in group["targets"] if target["state"] == HEALTHY]
        group["healthy"] = len(healthy)
        group["total"] = len(group["targets"])
        if not group["targets"]:
            problems.append("target group %s has no registered targets" % group["name"])
        elif len(healthy) < min_healthy:
            problems.append("target group %s: %d of %d targets healthy, need %d: %s"
                            % (group["name"], len(healthy), len(group["targets"]), min_healthy,
                               ", ".join(describe_target(target) for target in group["targets"]
                                         if target["state"] != HEALTHY)))
    return problems


def describe_target(target):
    text = "%s%s %s" % (target["id"], ":%s" % target["port"] if target.get("port") else "", target["state"])
    details = [part for part in (target.get("reason"), target.get("description")) if part]
    return text + (" (%s)" % ": ".join(details) if details else "")


# -- the probe ----------------------------------------------------------------------------------

def probe_endpoint(probe, default_address):
    """One real request: {url, address, port, sni, host, status, elapsed_ms, error, ok}."""
    address = probe.get("address") or default_address
    host = probe.get("host") or address
    sni = probe.get("sni") or host
    url = "%s://%s:%d%s" % (probe["scheme"], address, probe["port"], probe["path"])
    result = {"url": url, "address": address, "port": probe["port"], "host": host,
              "sni": sni if probe["scheme"] == "https" else None, "status": None, "error": None, "ok": False}
    started = time.monotonic()
    connection = None
    try:
        raw = socket.create_connection((address, probe["port"]), timeout=probe["timeout"])
        if probe["scheme"] == "https":
            context = ssl.create_default_context(cafile=probe.get("ca_file") or None)
            raw = context.wrap_socket(raw, server_hostname=sni)
        connection = http_client.HTTPConnection(address, probe["port"], timeout=probe["timeout"])
        connection.sock = raw
        connection.request("GET", probe["path"], headers={"Host": host, "User-Agent": "cloudshift-probe",
                                                          "Connection": "close"})
        response = connection.getresponse()
        response.read(65536)
        result["status"] = response.status
        result["ok"] = response.status in probe["expect_status"]
        if not result["ok"]:
            result["error"] = "answered %d, expected %s" % (response.status, "/".join(map(str, probe["expect_status"])))
    except ssl.SSLCertVerificationError as exc:
        result["error"] = "TLS verification failed (SNI %s, CA %s): %s" % (
            sni, probe.get("ca_file") or "system store", getattr(exc, "verify_message", None) or exc)
    except (ssl.SSLError, socket.error, http_client.HTTPException, ValueError) as exc:
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        if connection is not None:
            connection.close()
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000.0, 1)
    return result


# -- the whole check -----------------------------------------------------------------------------

def look_once(params):
    kind, found = find_load_balancer(params)
    load_balancer = load_balancer_summary(kind, found)
    groups = classic_instance_health(params, load_balancer) if kind == "classic" \
        else target_group_health(params, load_balancer)
    problems = group_problems(groups, params.get("min_healthy", 1))
    probe = None
    if params.get("probe"):
        probe = probe_endpoint(params["probe"], load_balancer["dns_name"])
        if not probe["ok"]:
            problems.append("probe %s (Host %s) failed: %s" % (probe["url"], probe["host"], probe["error"]))
    return {"load_balancer": load_balancer, "target_groups": groups, "probe": probe, "problems": problems,
            "healthy": not problems}


def run(params, sleep=time.sleep, clock=time.monotonic):
    """The health of the cloud side; with wait, looks again until healthy or wait_timeout has passed."""
    problems = input_problems(params)
    if problems:
        raise ElbError("; ".join(problems))
    started = clock()
    looks = 0
    while True:
        looks += 1
        try:
            result = look_once(params)
        except AwsError as exc:
            raise ElbError(str(exc))
        waited = clock() - started
        if result["healthy"] or not params.get("wait") or waited + params["wait_interval"] > params["wait_timeout"]:
            break
        sleep(params["wait_interval"])
    result.update({"looks": looks, "waited_seconds": round(clock() - started, 1), "table": table(result)})
    if params.get("wait") and not result["healthy"]:
        result["msg"] = "cloud side of %s not healthy after %.0f s: %s" % (
            params["load_balancer"], result["waited_seconds"], "; ".join(result["problems"]))
    return result


def table(result):
    lines = ["%-28s %-8s %s" % ("target group of " + result["load_balancer"]["name"], "healthy", "targets")]
    for group in result["target_groups"]:
        lines.append("%-28s %-8s %s" % (group["name"], "%d/%d" % (group["healthy"], group["total"]),
                                        ", ".join(describe_target(target) for target in group["targets"]) or "none"))
    probe = result.get("probe")
    if probe:
        lines.append("probe %s Host %s%s: %s in %.1f ms" % (
            probe["url"], probe["host"], " SNI %s" % probe["sni"] if probe["sni"] else "",
            probe["status"] if probe["status"] is not None else probe["error"], probe["elapsed_ms"]))
        if probe["status"] is not None and probe["error"]:
            lines.append("  " + probe["error"])
    return lines
