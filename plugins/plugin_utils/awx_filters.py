# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX filters' one behaviour on top of module_utils/awx.py: wrong AWX data is a filter error naming it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudshift.migration.plugins.module_utils.awx import AwxDataError


def awx_filter(function):
    """`function` as a filter: AwxDataError becomes AnsibleFilterError with the same message."""
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except AwxDataError as exc:
            raise AnsibleFilterError(str(exc))
    return wrapped
