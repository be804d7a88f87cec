#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: capacity_check
short_description: The field report's capacity lessons as a check that fails with its numbers
version_added: 0.3.0
description:
  - Compares the Auto Scaling group's min and max (read through the autoscaling API, or given) with the
    cluster-autoscaler's C(--nodes=MIN:MAX:NAME) (given, or read from its manifest). The report's ASG min 4
    against an autoscaler min 3 re-created the app's pods every 5 minutes.
  - Counts Ready nodes (given, or read from a file of C(kubectl get nodes -o json)), which must be at least the
    ASG min and at most O(max_ready_ratio) of its max, and fails on nodes out of Ready (NotReady, Unknown) for
    O(not_ready_grace) seconds or more (the report's two of three nodes in Unknown for days).
  - With O(kubernetes), what the other options do not give is read from the Kubernetes API (the C(kubernetes) Python
    client), the nodes, the cluster-autoscaler's node group (its status ConfigMap, else its Deployment's C(--nodes)
    flags) and, with O(kubernetes.deployment), the app's Deployment, its pods and its HorizontalPodAutoscaler (Ready
    replicas, restarts and pods created in the last hour, room left to the HPA).
  - Reads only. Fails when a check fails (unless O(fail_on_problems=false)), with every figure in the message.
options:
  asg_name:
    description: The Auto Scaling group of the cluster's nodes, read through the autoscaling API.
    type: str
  asg_min:
    description: The group's minimum, instead of O(asg_name).
    type: int
  asg_max:
    description: The group's maximum, instead of O(asg_name).
    type: int
  asg_desired:
    description: The group's desired capacity, instead of O(asg_name) (optional).
    type: int
  autoscaler_nodes:
    description: The cluster-autoscaler's node group, V(--nodes=3:10:nodes.k8s) or V(3:10:nodes.k8s).
    type: str
  autoscaler_manifest:
    description:
      - The cluster-autoscaler's manifest (YAML or JSON, a Deployment, a Pod or a List); its containers' C(--nodes)
        flag naming O(asg_name) is used (or the only one).
    type: path
  nodes_file:
    description: A file of C(kubectl get nodes -o json).
    type: path
  node_labels:
    description: Only the nodes (of O(nodes_file) or the API) with all of these labels (the ASG's nodes).
    type: dict
    default: {}
  ready_nodes:
    description: The number of Ready nodes, instead of O(nodes_file).
    type: int
  not_ready_nodes:
    description: Names of nodes not Ready, instead of O(nodes_file).
    type: list
    elements: str
  kubernetes:
    description: Read the cluster from the Kubernetes API, with a kubeconfig or the pod's in-cluster account.
    type: dict
    suboptions:
      kubeconfig:
        description: The kubeconfig file (its server, CA and credentials); or O(kubernetes.in_cluster).
        type: path
      context:
        description: The kubeconfig's context to use (default, its current context).
        type: str
      in_cluster:
        description: Use the service account of the pod this runs in.
        type: bool
        default: false
      request_timeout:
        description: Seconds each API request may take.
        type: int
        default: 10
      autoscaler_namespace:
        description: The namespace of the cluster-autoscaler.
        type: str
        default: kube-system
      autoscaler_status_configmap:
        description: The cluster-autoscaler's status ConfigMap (its node groups' minSize and maxSize), read first.
        type: str
        default: cluster-autoscaler-status
      autoscaler_deployment:
        description: The cluster-autoscaler's Deployment, whose C(--nodes) flags are read when the ConfigMap is missing.
        type: str
        default: cluster-autoscaler
      deployment:
        description: The app's Deployment (namespace, name); its pods and the HPA that scales it are read too.
        type: dict
        suboptions:
          namespace:
            description: Its namespace.
            type: str
            default: default
          name:
            description: Its name.
            type: str
            required: true
  max_restarts_last_hour:
    description: Containers of the app's pods that may have restarted in the last hour (O(kubernetes.deployment)).
    type: int
    default: 3
  max_ready_ratio:
    description: The share of the ASG's max that Ready nodes may reach (room to scale out).
    type: float
    default: 0.9
  not_ready_grace:
    description: Seconds a node may stay out of Ready (joining, rebooting) before it fails the check.
    type: int
    default: 300
  fail_on_problems:
    description: Fail when a check fails; V(false) reports them in RV(checks) and RV(passed) only.
    type: bool
    default: true
extends_documentation_fragment:
  - cloudshift.migration.aws
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: The report's lessons before a step
  cloudshift.migration.capacity_check:
    region: eu-west-3
    asg_name: nodes.k8s.6play.fr
    autoscaler_manifest: /srv/k8s/cluster-autoscaler.yaml
    nodes_file: /tmp/nodes.json
    node_labels:
      kops.k8s.io/instancegroup: nodes

- name: The same read from the cluster's API, with the app's Deployment
  cloudshift.migration.capacity_check:
    region: eu-west-3
    asg_name: nodes.k8s.6play.fr
    kubernetes:
      kubeconfig: ~/.kube/config
      deployment:
        namespace: default
        name: application-01
    node_labels:
      kops.k8s.io/instancegroup: nodes
"""

RETURN = r"""
passed:
  description: Whether every check passed.
  returned: success
  type: bool
checks:
  description: Each check with its status (pass or fail), measured value, expected value and message.
  returned: success
  type: list
  elements: dict
problems:
  description: The messages of the failed checks.
  returned: success
  type: list
  elements: str
asg:
  description: The Auto Scaling group's name, min, max and desired.
  returned: success
  type: dict
autoscaler:
  description: The cluster-autoscaler's node group (min, max, name; source when read from the Kubernetes API).
  returned: when given
  type: dict
deployment:
  description:
    - The app's Deployment as read from the API (namespace, name, replicas, ready_replicas, pods, restarts_last_hour,
      restarts_total, pods_created_last_hour, hpa with min, max, current, desired, cpu_current_pct, cpu_target_pct).
  returned: always
  type: dict
nodes:
  description: The nodes counted (name, ready, status, reason, since, seconds).
  returned: when given
  type: list
  elements: dict
table:
  description: The checks as lines an operator reads.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cloudshift.migration.plugins.module_utils.aws import BOTO3_IMPORT_ERROR, HAS_BOTO3
from ansible_collections.cloudshift.migration.plugins.module_utils.capacity import ARGUMENT_SPEC, CapacityError, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if module.params["asg_name"] and not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    try:
        result = run(module.params)
    except CapacityError as exc:
        module.fail_json(msg=str(exc))
    if result.get("msg"):
        module.fail_json(**result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
