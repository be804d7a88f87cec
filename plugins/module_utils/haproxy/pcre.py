# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regex validation exactly as HAProxy does it: with PCRE2 itself, through ctypes.

HAProxy (built with USE_PCRE2, as Debian's package is) compiles every map_reg /
map_regm key with ``pcre2_compile`` (options: PCRE2_NO_AUTO_CAPTURE for map_reg,
none for map_regm), then JIT-compiles it. Compiling the same bytes with the same
library gives PCRE2's own error message and offset, before anything reaches HAProxy.

When libpcre2-8 cannot be loaded, Python's ``re`` is used instead and every
result says so: its syntax is close to PCRE2's but not identical.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import ctypes.util
import re

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

LIBRARY_NAMES = ("libpcre2-8.so.0", "libpcre2-8.so")
PCRE2_CASELESS = 0x00000008
PCRE2_NO_AUTO_CAPTURE = 0x00002000
PCRE2_JIT_COMPLETE = 0x00000001
PCRE2_CONFIG_VERSION = 11
PCRE2_ERROR_JIT_BADOPTION = -45
ERROR_BUFFER_SIZE = 256

_library_cache = {}


class RegexError(CloudshiftError, ValueError):
    """A regex PCRE2 refuses; ``reason`` and ``offset`` are PCRE2's (offset in bytes)."""

    def __init__(self, message, pattern=None, reason=None, offset=None):
        super(RegexError, self).__init__(message)
        self.pattern = pattern
        self.reason = reason
        self.offset = offset


def _load_library():
    """(library, None) or (None, why it could not be loaded); cached."""
    if "result" not in _library_cache:
        names = list(LIBRARY_NAMES)
        found = ctypes.util.find_library("pcre2-8")
        if found and found not in names:
            names.append(found)
        errors = []
        result = (None, None)
        for name in names:
            try:
                library = ctypes.CDLL(name)
                _declare(library)
            except (OSError, AttributeError) as exc:
                errors.append("%s: %s" % (name, exc))
                continue
            result = (library, None)
            break
        else:
            result = (None, "; ".join(errors) or "libpcre2-8 not found")
        _library_cache["result"] = result
    return _library_cache["result"]


def _declare(library):
    library.pcre2_compile_8.restype = ctypes.c_void_p
    library.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t),
                                        ctypes.c_void_p]
    library.pcre2_get_error_message_8.restype = ctypes.c_int
    library.pcre2_get_error_message_8.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    library.pcre2_code_free_8.restype = None
    library.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
    library.pcre2_jit_compile_8.restype = ctypes.c_int
    library.pcre2_jit_compile_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    library.pcre2_config_8.restype = ctypes.c_int
    library.pcre2_config_8.argtypes = [ctypes.c_uint32, ctypes.c_void_p]


def engine():
    """Which engine validates regexes here: ``PCRE2 10.42`` or a note about the fallback."""
    library, why = _load_library()
    if library is None:
        return "Python re (libpcre2-8 could not be loaded: %s)" % why
    buffer = ctypes.create_string_buffer(64)
    if library.pcre2_config_8(PCRE2_CONFIG_VERSION, buffer) > 0:
        return "PCRE2 %s" % buffer.value.decode("ascii", "replace").split(" ")[0]
    return "PCRE2"


def pcre2_available():
    return _load_library()[0] is not None


def _error_message(library, code):
    buffer = ctypes.create_string_buffer(ERROR_BUFFER_SIZE)
    if library.pcre2_get_error_message_8(code, buffer, ERROR_BUFFER_SIZE) < 0:
        return "PCRE2 error %d" % code
    return buffer.value.decode("utf-8", "replace")


def regex_problem(pattern, capture=False, caseless=False):
    """None when the regex compiles as HAProxy compiles it, else (reason, offset).

    capture: False for map_reg (HAProxy adds PCRE2_NO_AUTO_CAPTURE), True for map_regm.
    offset is None when the error has no position (JIT failure, fallback without one).
    """
    data = pattern.encode("utf-8")
    library, _why = _load_library()
    if library is None:
        return _python_problem(pattern, caseless)
    options = 0 if capture else PCRE2_NO_AUTO_CAPTURE
    if caseless:
        options |= PCRE2_CASELESS
    error_code = ctypes.c_int(0)
    error_offset = ctypes.c_size_t(0)
    code = library.pcre2_compile_8(data, len(data), options, ctypes.byref(error_code),
                                   ctypes.byref(error_offset), None)
    if not code:
        return _error_message(library, error_code.value), error_offset.value
    try:
        jit_result = library.pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE)
        # JIT support missing from the library is not an error: HAProxy then runs the interpreter.
        if jit_result < 0 and jit_result != PCRE2_ERROR_JIT_BADOPTION:
            return "JIT compilation failed: %s" % _error_message(library, jit_result), None
    finally:
        library.pcre2_code_free_8(code)
    return None


def _python_problem(pattern, caseless):
    try:
        re.compile(pattern, re.IGNORECASE if caseless else 0)
    except re.error as exc:
        return "%s (checked with Python's re, not PCRE2)" % exc.msg, exc.pos
    return None


def regex_problem_text(pattern, capture=False, caseless=False):
    """regex_problem as one phrase, PCRE2's reason and the offset ('missing ) at offset 4'), or None."""
    problem = regex_problem(pattern, capture=capture, caseless=caseless)
    if problem is None:
        return None
    reason, offset = problem
    return reason if offset is None else "%s at offset %d" % (reason, offset)


def validate_regex(pattern, where, capture=False, caseless=False):
    """Raise RegexError naming the regex, where it is used, the offset and PCRE2's reason."""
    problem = regex_problem(pattern, capture=capture, caseless=caseless)
    if problem is None:
        return pattern
    reason, offset = problem
    position = "" if offset is None else " at offset %d" % offset
    raise RegexError("invalid regex '%s' for %s: %s%s" % (pattern, where, reason, position),
                     pattern=pattern, reason=reason, offset=offset)
