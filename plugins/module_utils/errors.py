# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exception every error of the collection derives from."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class CloudshiftError(Exception):
    """The base of every error the collection raises on purpose (LockError, StateError, HAProxyError...);
    modules and action plugins catch it to fail with its message."""
