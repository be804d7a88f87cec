# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options of every module that talks to AWS (plugins/module_utils/aws.py).
    DOCUMENTATION = r"""
options:
  region:
    description:
      - The AWS region; defaults to E(AWS_REGION) or E(AWS_DEFAULT_REGION).
    type: str
    aliases: [aws_region]
  profile:
    description: A named profile of the AWS configuration files; defaults to E(AWS_PROFILE).
    type: str
    aliases: [aws_profile]
  endpoint_url:
    description:
      - Another endpoint for every AWS API (a test server such as moto); defaults to E(AWS_ENDPOINT_URL).
    type: str
    aliases: [aws_endpoint_url]
  access_key:
    description:
      - AWS access key id; defaults to E(AWS_ACCESS_KEY_ID), then boto3's credential chain (profile, instance role).
      - Never shown in any output.
    type: str
    aliases: [aws_access_key_id]
  secret_key:
    description: AWS secret access key; defaults to E(AWS_SECRET_ACCESS_KEY). Never shown in any output.
    type: str
    aliases: [aws_secret_access_key]
  session_token:
    description: AWS session token, for temporary credentials; defaults to E(AWS_SESSION_TOKEN).
    type: str
    aliases: [aws_session_token]
  retry_mode:
    description:
      - botocore's retry mode for throttling and transient errors. V(adaptive) also slows the client down
        when AWS throttles it.
    type: str
    choices: [standard, adaptive]
    default: standard
  max_attempts:
    description: Attempts of each AWS call (the first one included), 1 to 20.
    type: int
    default: 5
requirements:
  - boto3
  - botocore
"""
