# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Percentiles (numpy's default definition), for the windows' figures (stats) and the gate (analysis). Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite_values(values, label):
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ValueError("%s must be a list of numbers, got %r" % (label, values))
    values = list(values)
    for index, value in enumerate(values):
        if not is_number(value) or not math.isfinite(value):
            raise ValueError("%s[%d] is %r, not a finite number" % (label, index, value))
    return values


def percentile(values, q):
    """The q-th percentile (0-100) of values, linear interpolation between closest ranks.

    Same definition as numpy's default: position (n - 1) * q / 100 in the sorted values.
    """
    if not is_number(q) or not math.isfinite(q) or not 0 <= q <= 100:
        raise ValueError("percentile q must be a number from 0 to 100, got %r" % (q,))
    ordered = sorted(finite_values(values, "values"))
    if not ordered:
        raise ValueError("percentile of an empty list of values (q=%r) is undefined" % (q,))
    position = (len(ordered) - 1) * q / 100.0
    lower = int(math.floor(position))
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction
