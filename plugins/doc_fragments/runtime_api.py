# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options of every module that talks to HAProxy's runtime API.
    DOCUMENTATION = r"""
options:
  socket:
    description:
      - HAProxy stats socket, as a unix socket path (V(/run/haproxy/admin.sock)) or a TCP address
        (V(tcp:127.0.0.1:9999) or V(127.0.0.1:9999)).
      - Modules that change anything need a socket at C(level admin) and say so when it is not.
    type: str
    required: true
  timeout:
    description: Seconds to wait for the connection to the socket and for each reply.
    type: float
    default: 5.0
"""
