# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files replaced atomically: a temporary file in the same directory, fsync, then a rename over the file
(or a link, which fails when the file exists), so a reader never sees half a file and a crash leaves the
previous one. Used by the JSON stores, the locks, the server-state file, the map files, haproxy.cfg and
the migration report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import locale
import os
import tempfile


def atomic_write(path, data, mode=0o640, make_dirs_mode=None, exclusive=False, owner=None, check=None,
                 encoding=None, sync_directory=False):
    """Put data (str or bytes) at path atomically. Returns True, or False when exclusive and path exists.

    The data goes to a temporary file in path's directory (``.<name>.XXXXXXXX.tmp``), which is flushed,
    fsynced, chmod'ed to mode, chown'ed to owner ((uid, gid), when given), handed to check(temporary path)
    (when given: whatever it raises aborts the write), then renamed over path, or with exclusive linked
    in place with os.link, which refuses an existing path (the lock's semantics). The temporary file is
    removed whatever fails, and path is then left as it was; errors propagate unchanged (OSError...).

    make_dirs_mode: create path's missing directories with this mode (by default they must exist).
    encoding: of str data; None is the locale's, as open() uses.
    sync_directory: fsync the directory once path is in place, so the rename survives a crash too.
    """
    if isinstance(data, str):
        data = data.encode(encoding or locale.getpreferredencoding(False))
    elif not isinstance(data, (bytes, bytearray)):
        raise TypeError("atomic_write writes str or bytes, not %s" % type(data).__name__)
    directory = os.path.dirname(path) or "."
    if make_dirs_mode is not None and not os.path.isdir(directory):
        os.makedirs(directory, make_dirs_mode)
    fd, tmp_path = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_path, mode)
        if owner is not None:
            os.chown(tmp_path, owner[0], owner[1])
        if check is not None:
            check(tmp_path)
        if exclusive:
            try:
                os.link(tmp_path, path)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
                written = False
            else:
                written = True
            os.unlink(tmp_path)
        else:
            os.replace(tmp_path, path)
            written = True
    except BaseException:
        _remove_quietly(tmp_path)
        raise
    if written and sync_directory:
        _fsync_directory(directory)
    return written


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
