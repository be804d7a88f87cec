# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""weights.split_weights / realised_share: properties over 1-10 servers per side."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.weights import (
    MAX_WEIGHT,
    realised_share,
    split_weights,
    spread,
)

counts = st.integers(min_value=1, max_value=10)
integer_shares = st.integers(min_value=0, max_value=100)
float_shares = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


def check_split(share, cloud_count, onprem_count):
    cloud, onprem = split_weights(share, cloud_count, onprem_count)
    assert len(cloud) == cloud_count and len(onprem) == onprem_count
    assert all(isinstance(weight, int) and 0 <= weight <= MAX_WEIGHT for weight in cloud + onprem)
    realised = realised_share(cloud, onprem)
    assert realised is not None
    assert abs(realised - share) <= 0.5, (share, cloud, onprem, realised)
    # within a side, weights differ by at most 1 (spread as evenly as possible)
    assert max(cloud) - min(cloud) <= 1 and max(onprem) - min(onprem) <= 1
    return cloud, onprem


@settings(max_examples=300, deadline=None)
@given(share=integer_shares, cloud_count=counts, onprem_count=counts)
def test_integer_shares_realised_within_half_a_point(share, cloud_count, onprem_count):
    check_split(share, cloud_count, onprem_count)


@settings(max_examples=150, deadline=None)
@given(share=float_shares, cloud_count=counts, onprem_count=counts)
def test_float_shares_realised_within_half_a_point(share, cloud_count, onprem_count):
    check_split(share, cloud_count, onprem_count)


def all_servers_can_stay_active(share, cloud_count, onprem_count):
    """Whether some weights >= 1 on every server realise share within 0.5 point (brute force)."""
    for cloud_total in range(cloud_count, MAX_WEIGHT * cloud_count + 1):
        ideal = cloud_total * (100.0 - share) / share
        for onprem_total in (int(ideal), int(ideal) + 1):
            if onprem_count <= onprem_total <= MAX_WEIGHT * onprem_count \
                    and abs(realised_share([cloud_total], [onprem_total]) - share) <= 0.5:
                return True
    return False


@pytest.mark.parametrize("share", [1, 5, 10, 25, 50, 75, 99])
def test_every_server_keeps_traffic_whenever_possible(share):
    for cloud_count in range(1, 11):
        for onprem_count in range(1, 11):
            cloud, onprem = check_split(share, cloud_count, onprem_count)
            if all_servers_can_stay_active(share, cloud_count, onprem_count):
                assert min(cloud) >= 1 and min(onprem) >= 1, (share, cloud, onprem)


def test_weight_zero_only_where_the_share_needs_it():
    # 99% with 10 on-prem servers: even at weight 1 each they would take 10/(10+256) > 1.5%
    assert not all_servers_can_stay_active(99, 1, 10)
    cloud, onprem = split_weights(99, 1, 10)
    assert abs(realised_share(cloud, onprem) - 99) <= 0.5
    assert 0 in onprem
    # with 3 on-prem servers it is possible, so all keep a weight
    assert split_weights(99, 1, 3) == ([256], [1, 1, 1])


def test_shares_above_99_6_use_the_maximum_weight():
    # regression: no candidate existed above 256 and split_weights crashed on a None
    assert split_weights(99.9, 1, 1) == ([256], [1])


def test_one_plus_one_reads_as_percentages_like_the_field_report():
    assert split_weights(25, 1, 1) == ([25], [75])
    assert split_weights(1, 1, 1) == ([1], [99])
    assert split_weights(50, 1, 1) == ([50], [50])
    assert split_weights(75, 1, 1) == ([75], [25])


def test_ends_of_the_range():
    assert split_weights(0, 2, 3) == ([0, 0], [100, 100, 100])
    assert split_weights(100, 2, 3) == ([100, 100], [0, 0, 0])
    assert realised_share(*split_weights(0, 2, 3)) == 0.0
    assert realised_share(*split_weights(100, 2, 3)) == 100.0


@pytest.mark.parametrize("share, cloud_count, onprem_count", [
    (-1, 1, 1), (100.5, 1, 1), (25, 0, 1), (25, 1, 0),
])
def test_bad_arguments_named(share, cloud_count, onprem_count):
    with pytest.raises(ValueError) as info:
        split_weights(share, cloud_count, onprem_count)
    message = str(info.value)
    assert repr(share) in message or "%d cloud and %d on-prem" % (cloud_count, onprem_count) in message


def test_realised_share():
    assert realised_share([25], [75]) == 25.0
    assert realised_share([0, 0], [0]) is None
    assert realised_share([], [10]) == 0.0
    assert realised_share([10], []) == 100.0


def test_spread():
    assert spread(10, 3) == [4, 3, 3]
    assert spread(9, 3) == [3, 3, 3]
    assert sum(spread(257, 10)) == 257
