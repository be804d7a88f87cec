# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS cutover: point an app's record at its ELB through Route53, and put it back exactly.

The cutover owns the address records of one name (A, AAAA and CNAME, weighted or not); other types
(TXT, MX...) are never touched. Before the first change the record sets the name held are written to
a backup file on the controller, exactly as Route53 listed them; a restore makes the name hold those
record sets again, in one change batch (Route53 applies a batch atomically), and checks it does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import hashlib
import json
import re
import time

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import AWS_ARGUMENT_SPEC, AwsError, \
    aws_client, aws_problems, call, paginate
from ansible_collections.cloudshift.migration.plugins.module_utils.elb import ELB_NAME_PATTERN, ElbError, \
    find_load_balancer, load_balancer_summary
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.jsonfile import JsonFileError, read_json, write_json

ADDRESS_TYPES = ("A", "AAAA", "CNAME")
BACKUP_FORMAT = 1
MAX_WEIGHT = 255
LABEL_PATTERN = re.compile(r"^(\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)$")
SET_IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
ZONE_ID_PATTERN = re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$")

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["cutover", "restore"], default="cutover"),
    zone=dict(type="str", required=True),
    private_zone=dict(type="bool", default=False),
    record=dict(type="str", required=True),
    load_balancer=dict(type="str"),
    load_balancer_type=dict(type="str", choices=["auto", "application", "network", "classic"], default="auto"),
    target_dns_name=dict(type="str"),
    target_hosted_zone_id=dict(type="str"),
    type=dict(type="str", choices=["alias", "cname"], default="alias"),
    ipv6=dict(type="bool", default=False),
    evaluate_target_health=dict(type="bool", default=True),
    ttl=dict(type="int", default=60),
    weight=dict(type="int"),
    onprem_weight=dict(type="int"),
    set_identifier=dict(type="str", default="cloud"),
    onprem_set_identifier=dict(type="str", default="onprem"),
    backup_file=dict(type="path"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=300),
    comment=dict(type="str"),
    **AWS_ARGUMENT_SPEC
)


class CutoverError(CloudshiftError):
    pass


# -- names ----------------------------------------------------------------------------------------

def fqdn(name):
    """Lower case, one trailing dot."""
    return name.strip().lower().rstrip(".") + "."


def name_problem(name, label):
    if not isinstance(name, str) or not name.strip():
        return "%s is empty" % label
    text = fqdn(name)
    if len(text) > 254 or not all(LABEL_PATTERN.match(part) for part in text[:-1].split(".")):
        return "invalid %s %r: a DNS name of letters, digits, hyphens and underscores" % (label, name)
    return None


def dns_target(value):
    """An alias or CNAME target without case, trailing dot or Route53's dualstack. prefix."""
    value = (value or "").lower().rstrip(".")
    return value[len("dualstack."):] if value.startswith("dualstack.") else value


def dns_equal(left, right):
    return dns_target(left) == dns_target(right)


# -- input ----------------------------------------------------------------------------------------

def input_problems(params):
    """Every bad value, each naming it; nothing reaches AWS before this is empty."""
    problems = aws_problems(params, needs_region=params.get("state") == "cutover" and bool(params.get("load_balancer")))
    for key, label in (("zone", "zone"), ("record", "record")):
        problem = name_problem(params.get(key), label)
        if problem:
            problems.append(problem)
    if not problems:
        zone, record = fqdn(params["zone"]), fqdn(params["record"])
        if record != zone and not record.endswith("." + zone):
            problems.append("record %s is not in zone %s" % (record, zone))
        elif record == zone and params.get("type") == "cname":
            problems.append("the zone apex %s cannot be a CNAME: use type alias" % record)
    if params.get("state") == "restore":
        if not params.get("backup_file"):
            problems.append("state restore needs backup_file: the record sets saved by the cutover")
        return problems
    has_lb = bool(params.get("load_balancer"))
    has_dns = bool(params.get("target_dns_name"))
    if has_lb == has_dns:
        problems.append("give the target as load_balancer (its name) or as target_dns_name, not %s"
                        % ("both" if has_lb else "neither"))
    if has_lb and not ELB_NAME_PATTERN.match(params["load_balancer"]):
        problems.append("invalid load_balancer %r: 1-32 letters, digits and hyphens" % params["load_balancer"])
    if has_dns:
        problem = name_problem(params["target_dns_name"], "target_dns_name")
        if problem:
            problems.append(problem)
        if params.get("type") == "alias" and not params.get("target_hosted_zone_id"):
            problems.append("an alias to target_dns_name needs target_hosted_zone_id (the ELB's canonical zone)")
    zone_id = params.get("target_hosted_zone_id")
    if zone_id and not ZONE_ID_PATTERN.match(zone_id):
        problems.append("invalid target_hosted_zone_id %r" % zone_id)
    if not 0 <= (params.get("ttl") if params.get("ttl") is not None else 60) <= 604800:
        problems.append("invalid ttl %r: 0 to 604800 seconds" % params.get("ttl"))
    for key in ("weight", "onprem_weight"):
        value = params.get(key)
        if value is not None and not 0 <= value <= MAX_WEIGHT:
            problems.append("invalid %s %r: Route53 weights are 0 to %d" % (key, value, MAX_WEIGHT))
    if params.get("onprem_weight") is not None and params.get("weight") is None:
        problems.append("onprem_weight goes with weight (the cloud record's weight)")
    if params.get("weight") is not None and (params["weight"] + onprem_weight(params)) == 0:
        problems.append("weight and onprem_weight are both 0: Route53 would then answer both alike; give one a weight")
    for key in ("set_identifier", "onprem_set_identifier"):
        if not SET_IDENTIFIER_PATTERN.match(params.get(key) or ""):
            problems.append("invalid %s %r: 1-128 letters, digits, '.', '_' or '-'" % (key, params.get(key)))
    if params.get("set_identifier") == params.get("onprem_set_identifier"):
        problems.append("set_identifier and onprem_set_identifier are both %r" % params.get("set_identifier"))
    if params.get("type") == "cname" and params.get("ipv6"):
        problems.append("ipv6 goes with type alias (a CNAME already serves both address families)")
    if not 0 <= params.get("wait_timeout", 300) <= 3600:
        problems.append("invalid wait_timeout %r: 0 to 3600 seconds" % params.get("wait_timeout"))
    return problems


def onprem_weight(params):
    if params.get("onprem_weight") is not None:
        return params["onprem_weight"]
    return MAX_WEIGHT - params["weight"]


# -- pure planning ----------------------------------------------------------------------------

def record_key(record_set):
    return (fqdn(record_set["Name"]), record_set["Type"], record_set.get("SetIdentifier"))


def comparable(record_set):
    """A record set as Route53 means it: names without case/trailing dot, alias targets normalised."""
    data = copy.deepcopy(record_set)
    data["Name"] = fqdn(data["Name"])
    alias = data.get("AliasTarget")
    if alias:
        alias["DNSName"] = dns_target(alias["DNSName"])
        alias["HostedZoneId"] = alias["HostedZoneId"].split("/")[-1]
    if data.get("Type") == "CNAME":
        data["ResourceRecords"] = [{"Value": dns_target(item["Value"])} for item in data.get("ResourceRecords", [])]
    elif data.get("ResourceRecords"):
        data["ResourceRecords"] = sorted(data["ResourceRecords"], key=lambda item: item["Value"])
    return data


def same_record_set(left, right):
    return comparable(left) == comparable(right)


def address_sets(record_sets, name):
    return [item for item in record_sets if fqdn(item["Name"]) == fqdn(name) and item["Type"] in ADDRESS_TYPES]


def cloud_record(params, target, record_type, set_identifier=None, weight=None):
    record = {"Name": fqdn(params["record"]), "Type": record_type}
    if record_type == "CNAME":
        record["TTL"] = params["ttl"]
        record["ResourceRecords"] = [{"Value": target["dns_name"]}]
    else:
        record["AliasTarget"] = {"HostedZoneId": target["hosted_zone_id"], "DNSName": target["dns_name"],
                                 "EvaluateTargetHealth": params["evaluate_target_health"]}
    if set_identifier is not None:
        record["SetIdentifier"] = set_identifier
        record["Weight"] = weight
    return record


def desired_sets(params, current, target):
    """The address record sets the name should hold after the cutover (pure)."""
    cloud_types = ["CNAME"] if params["type"] == "cname" else (["A", "AAAA"] if params["ipv6"] else ["A"])
    if params.get("weight") is None:
        return [cloud_record(params, target, record_type) for record_type in cloud_types]
    # A DNS-level ramp: the records the name held stay, weighted, beside the cloud's.
    cloud_id, onprem_id = params["set_identifier"], params["onprem_set_identifier"]
    onprem = [item for item in current if item.get("SetIdentifier") in (None, onprem_id)
              and not points_at(item, target)]
    onprem_types = set(item["Type"] for item in onprem)
    if onprem_types and "CNAME" in onprem_types and params["type"] != "cname":
        raise CutoverError("%s is a CNAME today and weighted records of one name share their type: "
                           "use type cname for a weighted cutover" % fqdn(params["record"]))
    if onprem_types and "CNAME" not in onprem_types and params["type"] == "cname":
        raise CutoverError("%s holds %s records today and weighted records of one name share their type: "
                           "use type alias for a weighted cutover" % (fqdn(params["record"]), "/".join(sorted(onprem_types))))
    desired = []
    for item in onprem:
        kept = copy.deepcopy(item)
        kept["SetIdentifier"] = onprem_id
        kept["Weight"] = onprem_weight(params)
        desired.append(kept)
    for record_type in cloud_types:
        desired.append(cloud_record(params, target, record_type, cloud_id, params["weight"]))
    return desired


def points_at(record_set, target):
    alias = record_set.get("AliasTarget")
    if alias:
        return dns_equal(alias.get("DNSName"), target["dns_name"])
    if record_set["Type"] == "CNAME":
        return any(dns_equal(item["Value"], target["dns_name"]) for item in record_set.get("ResourceRecords", []))
    return False


def change_batch(current, desired):
    """The changes that turn the current address sets into the desired ones: deletions of what goes,
    then upserts of what is new or different. Empty when nothing differs."""
    desired_keys = set(record_key(item) for item in desired)
    by_key = dict((record_key(item), item) for item in current)
    changes = [{"Action": "DELETE", "ResourceRecordSet": item} for item in current
               if record_key(item) not in desired_keys]
    for item in desired:
        existing = by_key.get(record_key(item))
        if existing is None or not same_record_set(existing, item):
            changes.append({"Action": "UPSERT", "ResourceRecordSet": item})
    return changes


def sets_text(record_sets):
    """The record sets as zone-file-like lines, for diffs and the backup's readers."""
    lines = []
    for item in sorted(record_sets, key=lambda entry: (entry["Type"], entry.get("SetIdentifier") or "")):
        prefix = "%s %s" % (fqdn(item["Name"]), item["Type"])
        if item.get("SetIdentifier") is not None:
            prefix += " [%s weight %s]" % (item["SetIdentifier"], item.get("Weight"))
        if item.get("AliasTarget"):
            alias = item["AliasTarget"]
            lines.append("%s ALIAS %s (zone %s, evaluate target health %s)" % (
                prefix, alias["DNSName"], alias["HostedZoneId"], "yes" if alias.get("EvaluateTargetHealth") else "no"))
        else:
            lines.append("%s TTL %s %s" % (prefix, item.get("TTL"),
                                           " ".join(value["Value"] for value in item.get("ResourceRecords", []))))
    return "\n".join(lines) + ("\n" if lines else "")


# -- Route53 calls ----------------------------------------------------------------------------

def find_zone(route53, zone, private):
    name = fqdn(zone)
    zones = call("look up hosted zone %s" % name, route53.list_hosted_zones_by_name, DNSName=name, MaxItems="100")
    matches = [item for item in zones.get("HostedZones", []) if fqdn(item["Name"]) == name
               and bool(item.get("Config", {}).get("PrivateZone")) == bool(private)]
    if not matches:
        raise CutoverError("no %s hosted zone %s in this account" % ("private" if private else "public", name))
    if len(matches) > 1:
        raise CutoverError("%d %s hosted zones are named %s (%s): Route53 cannot tell which one to change"
                           % (len(matches), "private" if private else "public", name,
                              ", ".join(item["Id"].split("/")[-1] for item in matches)))
    return matches[0]["Id"].split("/")[-1]


def name_record_sets(route53, zone_id, name):
    """Every record set of name (all types), exactly as Route53 lists them."""
    name = fqdn(name)
    found = []
    pages = paginate(route53, "list_resource_record_sets", "ResourceRecordSets",
                     "list the records of %s in zone %s" % (name, zone_id),
                     HostedZoneId=zone_id, StartRecordName=name)
    for item in pages:
        if fqdn(item["Name"]) == name:
            found.append(item)
        elif found:
            break  # listed in name order: past this name
    return found


def resolve_target(params):
    if params.get("load_balancer"):
        try:
            kind, found = find_load_balancer(params)
        except ElbError as exc:
            raise CutoverError("the target ELB does not exist: %s" % exc)
        summary = load_balancer_summary(kind, found)
        return {"dns_name": summary["dns_name"], "hosted_zone_id": summary["hosted_zone_id"],
                "load_balancer": summary["name"], "load_balancer_type": summary["type"]}
    return {"dns_name": params["target_dns_name"].rstrip("."),
            "hosted_zone_id": (params.get("target_hosted_zone_id") or "").split("/")[-1] or None,
            "load_balancer": None, "load_balancer_type": None}


def submit(route53, zone_id, changes, comment, label):
    batch = {"Changes": changes}
    if comment:
        batch["Comment"] = comment[:256]
    answer = call("change %s in zone %s" % (label, zone_id), route53.change_resource_record_sets,
                  HostedZoneId=zone_id, ChangeBatch=batch)
    return answer["ChangeInfo"]


def wait_insync(route53, change, timeout, sleep=time.sleep, clock=time.monotonic):
    """Poll GetChange until INSYNC; the last status seen and the seconds waited."""
    started = clock()
    status = change.get("Status")
    change_id = change["Id"].split("/")[-1]
    while status != "INSYNC":
        if clock() - started >= timeout:
            raise CutoverError("change %s submitted but still %s after %d s (Route53 applies it; "
                               "check it with aws route53 get-change --id %s)" % (change_id, status, timeout, change_id))
        sleep(min(5.0, max(0.5, timeout / 60.0)))
        status = call("read change %s" % change_id, route53.get_change, Id=change_id)["ChangeInfo"]["Status"]
    return status, round(clock() - started, 1)


# -- backup ---------------------------------------------------------------------------------------

def backup_digest(data):
    """sha256 over what a restore applies (zone, record, record sets), canonical JSON: an edit of the backup after the
    cutover wrote it, or a file cut short, no longer matches."""
    payload = json.dumps({"zone_id": data.get("zone_id"), "record": data.get("record"),
                          "record_sets": data.get("record_sets")}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def backup_problems(data, zone_id, record):
    """Why a backup must not be restored into record of zone_id, one sentence per problem (pure; empty: restore it).
    zone_id None leaves the zone out (checked again once the zone is found).

    A restore only ever touches the app's own name and its address types in the app's zone, whatever the file says."""
    problems = []
    if data.get("digest") != backup_digest(data):
        problems.append("its digest does not match its content (%s): it was changed after the cutover wrote it"
                        % ("no digest" if not data.get("digest") else "digest %s" % str(data["digest"])[:16]))
    if zone_id is not None and data.get("zone_id") != zone_id:
        problems.append("it was saved from zone %s, the app's zone is %s" % (data.get("zone_id"), zone_id))
    if not isinstance(data.get("record"), str) or fqdn(data["record"]) != record:
        problems.append("it holds %s, not the app's record %s" % (data.get("record"), record))
    for index, item in enumerate(data.get("record_sets") or []):
        where = "record set %d" % (index + 1)
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            problems.append("%s is not a record set with a Name" % where)
            continue
        if fqdn(item["Name"]) != record:
            problems.append("%s names %s, not the app's record %s" % (where, fqdn(item["Name"]), record))
        if item.get("Type") not in ADDRESS_TYPES:
            problems.append("%s of %s has type %r: a restore puts back only %s" % (
                where, fqdn(item["Name"]), item.get("Type"), "/".join(ADDRESS_TYPES)))
        if not item.get("AliasTarget") and not item.get("ResourceRecords"):
            problems.append("%s of %s has neither AliasTarget nor ResourceRecords" % (where, fqdn(item["Name"])))
    if not data.get("record_sets"):
        problems.append("it holds no record set")
    return problems


def read_backup(path):
    try:
        data = read_json(path, "DNS backup")
    except JsonFileError as exc:
        raise CutoverError(str(exc))
    if data is not None and (not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT
                             or not isinstance(data.get("record_sets"), list)):
        raise CutoverError("%s is not a DNS backup written by route53_cutover" % path)
    return data


def write_backup(path, zone_id, record, record_sets):
    data = {"format": BACKUP_FORMAT, "zone_id": zone_id, "record": fqdn(record),
            "saved_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
            "record_sets": record_sets}
    data["digest"] = backup_digest(data)
    try:
        write_json(path, data, "DNS backup", mode=0o600, indent=2)
    except JsonFileError as exc:
        raise CutoverError(str(exc))
    return data


# -- the two states -----------------------------------------------------------------------------

def run(params, check_mode=False, diff_mode=False):
    problems = input_problems(params)
    if problems:
        raise CutoverError("; ".join(problems))
    try:
        result = _run(params, check_mode)
    except AwsError as exc:
        raise CutoverError(str(exc))
    result["table"] = table(result, check_mode)
    return result


def table(result, check_mode=False):
    """What an operator reads: the record before and after, the change and where the backup is."""
    def indented(label, record_sets):
        lines = sets_text(record_sets).splitlines() or ["(nothing)"]
        return ["  %-7s %s" % (label if index == 0 else "", line) for index, line in enumerate(lines)]

    lines = ["%s in zone %s (%s)" % (result["record"], result["zone_id"], result["state"])]
    lines += indented("before", result["before"]) + indented("after", result["after"])
    if not result["changed"]:
        lines.append("  nothing to change: the record already is what %s asks" % result["state"])
    elif check_mode:
        lines.append("  check mode: %d change(s) not submitted" % len(result["changes"]))
    else:
        lines.append("  change %s %s after %.1f s" % (result["change_id"], result["status"], result["waited_seconds"]))
    if result.get("backup_file"):
        lines.append("  %s %s" % ("restored from" if result["state"] == "restore" else "previous record kept in",
                                  result["backup_file"]))
    return lines


def _refuse_backup(params, backup, zone_id, record):
    problems = backup_problems(backup, zone_id, record)
    if problems:
        raise CutoverError("DNS backup %s is refused, nothing was changed: %s" % (params["backup_file"], "; ".join(problems)))


def _run(params, check_mode):
    record = fqdn(params["record"])
    backup = read_backup(params["backup_file"]) if params.get("backup_file") else None
    if params["state"] == "restore":
        if backup is None:
            raise CutoverError("no DNS backup at %s: nothing to restore (was the cutover made?)" % params["backup_file"])
        _refuse_backup(params, backup, None, record)  # before the first AWS call
    route53 = aws_client(params, "route53", region=params.get("region") or "us-east-1")
    zone_id = find_zone(route53, params["zone"], params["private_zone"])
    all_sets = name_record_sets(route53, zone_id, record)
    current = address_sets(all_sets, record)
    if params["state"] == "restore":
        _refuse_backup(params, backup, zone_id, record)
        desired, target = backup["record_sets"], None
    else:
        if not current:
            raise CutoverError("zone %s holds no A, AAAA or CNAME record for %s: nothing to cut over"
                               % (fqdn(params["zone"]), record))
        target = resolve_target(params)
        desired = desired_sets(params, current, target)
    changes = change_batch(current, desired)
    result = {"changed": bool(changes), "zone_id": zone_id, "record": record, "state": params["state"],
              "target": target, "before": current, "after": desired if changes else current, "changes": changes,
              "backup_file": params.get("backup_file"), "change_id": None, "status": None, "waited_seconds": 0,
              "diff": {"before": sets_text(current), "after": sets_text(desired if changes else current),
                       "before_header": "%s in zone %s" % (record, zone_id),
                       "after_header": "%s in zone %s" % (record, zone_id)}}
    if not changes or check_mode:
        return result
    # Keep what the name holds before its first cutover (not an earlier weighted stage of it).
    if params["state"] == "cutover" and params.get("backup_file") and \
            (backup is None or not any(points_at(item, target) for item in current)):
        write_backup(params["backup_file"], zone_id, record, current)
    change = submit(route53, zone_id, changes, params.get("comment") or "cloudshift.migration %s of %s"
                    % (params["state"], record), record)
    result["change_id"] = change["Id"].split("/")[-1]
    result["status"] = change.get("Status")
    if params["wait"]:
        result["status"], result["waited_seconds"] = wait_insync(route53, change, params["wait_timeout"])
    after = address_sets(name_record_sets(route53, zone_id, record), record)
    result["after"] = after
    result["diff"]["after"] = sets_text(after)
    if params["state"] == "restore":
        result["restored_exactly"] = sorted(json.dumps(comparable(item), sort_keys=True) for item in after) == \
            sorted(json.dumps(comparable(item), sort_keys=True) for item in desired)
        if not result["restored_exactly"]:
            raise CutoverError("the restore was submitted (change %s) but %s now holds:\n%sand not the backup's:\n%s"
                               % (result["change_id"], record, sets_text(after), sets_text(desired)))
    return result
