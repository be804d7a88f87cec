# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one app model: resolve() and its one validation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
