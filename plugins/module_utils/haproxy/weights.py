# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Weight math for splitting a backend between on-prem and cloud servers.

Pure functions, no I/O: unit-tested without HAProxy.

HAProxy's roundrobin sends each active (non-backup) server a share of requests
proportional to its weight (0-256), so the cloud share of a backend is
sum(cloud weights) / sum(all active weights).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAX_WEIGHT = 256
FULL_WEIGHT = 100
SHARE_TOLERANCE = 0.5


def spread(total, count):
    """Split an integer total over count servers, as evenly as possible (first ones get the extra 1)."""
    base, extra = divmod(total, count)
    return [base + 1 if index < extra else base for index in range(count)]


def _share(cloud_total, onprem_total):
    total = cloud_total + onprem_total
    return 100.0 * cloud_total / total if total else 0.0


def _cloud_totals_near(share, onprem_total, cloud_max):
    ideal = share * onprem_total / (100.0 - share)
    # Clamped: above 256 per server, the cloud side's maximum is still a candidate (shares near 100).
    low = min(int(ideal), cloud_max)
    for cloud_total in (low, low + 1):
        if 1 <= cloud_total <= cloud_max:
            yield cloud_total


def _score(share, cloud_count, onprem_count, cloud_total, onprem_total):
    """Sort key: smaller is better."""
    error = abs(_share(cloud_total, onprem_total) - share)
    all_active = cloud_total >= cloud_count and onprem_total >= onprem_count
    uneven = (cloud_total % cloud_count != 0) + (onprem_total % onprem_count != 0)
    # Readability: with one server a side, weights read as percentages (25/75), as in the field report.
    readability = abs(cloud_total / cloud_count + onprem_total / onprem_count - FULL_WEIGHT)
    return (error > SHARE_TOLERANCE, not all_active, round(error, 6), uneven, readability)


def split_weights(share, cloud_count, onprem_count):
    """Per-server weights that make the cloud side receive `share` percent.

    Returns (cloud_weights, onprem_weights), two lists of ints in 0..256.
    Every server of a side gets the same weight where that keeps the realised
    share within 0.5 point; otherwise the side's total is spread as evenly as
    possible (and, only where nothing else reaches the share, some servers get 0).
    """
    if cloud_count < 1 or onprem_count < 1:
        raise ValueError("a split needs at least one server on each side, got %d cloud and %d on-prem"
                         % (cloud_count, onprem_count))
    if not 0 <= share <= 100:
        raise ValueError("share must be between 0 and 100, got %r" % (share,))
    if share == 0:
        return [0] * cloud_count, [FULL_WEIGHT] * onprem_count
    if share == 100:
        return [FULL_WEIGHT] * cloud_count, [0] * onprem_count

    best = None
    best_key = None
    for onprem_total in range(1, MAX_WEIGHT * onprem_count + 1):
        for cloud_total in _cloud_totals_near(share, onprem_total, MAX_WEIGHT * cloud_count):
            key = _score(share, cloud_count, onprem_count, cloud_total, onprem_total)
            if best_key is None or key < best_key:
                best, best_key = (cloud_total, onprem_total), key
    cloud_total, onprem_total = best
    return spread(cloud_total, cloud_count), spread(onprem_total, onprem_count)


def realised_share(cloud_weights, onprem_weights):
    """Cloud share in percent given the weights of the active servers of each side (None when all are 0)."""
    cloud_total = sum(cloud_weights)
    total = cloud_total + sum(onprem_weights)
    if total == 0:
        return None
    return 100.0 * cloud_total / total
