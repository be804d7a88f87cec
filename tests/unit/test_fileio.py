"""fileio.atomic_write: replace, exclusive create, modes, and no temporary file left behind whatever fails."""

import errno
import os
import stat

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import fileio
from ansible_collections.cloudshift.migration.plugins.module_utils.fileio import atomic_write


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_creates_then_replaces(tmp_path):
    path = tmp_path / "state.json"
    assert atomic_write(str(path), "one\n") is True
    assert path.read_text() == "one\n"
    inode = os.stat(str(path)).st_ino
    assert atomic_write(str(path), "two\n") is True
    assert path.read_text() == "two\n"
    assert os.stat(str(path)).st_ino != inode  # a new file renamed over the old one, not rewritten in place
    assert os.listdir(str(tmp_path)) == ["state.json"]


def test_bytes_are_written_as_they_are(tmp_path):
    path = tmp_path / "blob"
    data = b"\x00\xff\r\n\xc3\xa9"
    atomic_write(str(path), data)
    assert path.read_bytes() == data


def test_str_is_encoded_with_the_given_encoding_and_newlines_kept(tmp_path):
    path = tmp_path / "text"
    atomic_write(str(path), u"caf\u00e9\r\nline\n", encoding="utf-8")
    assert path.read_bytes() == b"caf\xc3\xa9\r\nline\n"
    atomic_write(str(path), u"caf\u00e9\n", encoding="latin-1")
    assert path.read_bytes() == b"caf\xe9\n"


def test_str_defaults_to_the_locale_encoding_as_open_does(tmp_path):
    path = tmp_path / "text"
    atomic_write(str(path), "plain ascii\n")
    with open(str(path)) as handle:
        assert handle.read() == "plain ascii\n"


def test_other_data_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(TypeError, match="str or bytes, not dict"):
        atomic_write(str(tmp_path / "x"), {"a": 1})
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o644, 0o2750])
def test_mode(tmp_path, mode):
    path = tmp_path / "file"
    atomic_write(str(path), "x", mode=mode)
    assert mode_of(path) == mode


def test_default_mode_is_0640_and_replacing_applies_the_mode_again(tmp_path):
    path = tmp_path / "file"
    atomic_write(str(path), "x")
    assert mode_of(path) == 0o640
    atomic_write(str(path), "y", mode=0o600)
    assert mode_of(path) == 0o600


def test_owner_is_applied(tmp_path):
    path = tmp_path / "file"
    atomic_write(str(path), "x", owner=(os.getuid(), os.getgid()))
    assert (os.stat(str(path)).st_uid, os.stat(str(path)).st_gid) == (os.getuid(), os.getgid())


def test_exclusive_creates_when_absent(tmp_path):
    path = tmp_path / "app.lock"
    assert atomic_write(str(path), "mine\n", exclusive=True) is True
    assert path.read_text() == "mine\n"
    assert mode_of(path) == 0o640
    assert os.stat(str(path)).st_nlink == 1  # the temporary name is gone
    assert os.listdir(str(tmp_path)) == ["app.lock"]


def test_exclusive_is_refused_when_the_file_exists(tmp_path):
    path = tmp_path / "app.lock"
    path.write_text("theirs\n")
    assert atomic_write(str(path), "mine\n", exclusive=True) is False
    assert path.read_text() == "theirs\n"
    assert os.listdir(str(tmp_path)) == ["app.lock"]


def test_exclusive_refuses_a_dangling_symlink_too(tmp_path):
    path = tmp_path / "app.lock"
    os.symlink(str(tmp_path / "nowhere"), str(path))
    assert atomic_write(str(path), "mine\n", exclusive=True) is False
    assert not os.path.exists(str(tmp_path / "nowhere"))


def test_missing_directory_fails_without_make_dirs_mode(tmp_path):
    with pytest.raises(OSError) as caught:
        atomic_write(str(tmp_path / "missing" / "file"), "x")
    assert caught.value.errno == errno.ENOENT
    assert os.listdir(str(tmp_path)) == []


def test_make_dirs_mode_creates_the_missing_directories(tmp_path):
    path = tmp_path / "a" / "b" / "file"
    old_umask = os.umask(0o022)
    try:
        atomic_write(str(path), "x", make_dirs_mode=0o750)
    finally:
        os.umask(old_umask)
    assert path.read_text() == "x"
    assert mode_of(tmp_path / "a" / "b") == 0o750
    assert mode_of(tmp_path / "a") == 0o755  # intermediate directories follow the umask, as with os.makedirs


def test_a_relative_path_is_written_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    atomic_write("file", "x")
    assert (tmp_path / "file").read_text() == "x"
    assert os.listdir(str(tmp_path)) == ["file"]


def test_data_that_cannot_be_encoded_leaves_nothing(tmp_path):
    path = tmp_path / "file"
    path.write_text("before")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(str(path), u"caf\u00e9", encoding="ascii")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(str(path), u"lone surrogate \udc80", encoding="utf-8")
    assert path.read_text() == "before"
    assert os.listdir(str(tmp_path)) == ["file"]


def test_a_failing_check_aborts_and_leaves_the_file_and_no_temporary(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text("old")
    seen = []

    def check(tmp):
        seen.append((os.path.dirname(tmp), os.path.basename(tmp), open(tmp).read(), mode_of(tmp)))
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        atomic_write(str(path), "new", mode=0o600, check=check)
    assert path.read_text() == "old"
    assert os.listdir(str(tmp_path)) == ["haproxy.cfg"]
    directory, name, text, mode = seen[0]
    assert directory == str(tmp_path)
    assert name.startswith(".haproxy.cfg.") and name.endswith(".tmp")
    assert (text, mode) == ("new", 0o600)


def test_a_passing_check_lets_the_write_through(tmp_path):
    path = tmp_path / "file"
    atomic_write(str(path), "new", check=lambda tmp: None)
    assert path.read_text() == "new"


def test_a_failing_rename_leaves_no_temporary(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "inside").write_text("keep")
    with pytest.raises(OSError):
        atomic_write(str(target), "x")
    assert sorted(os.listdir(str(tmp_path))) == ["target"]
    assert os.listdir(str(target)) == ["inside"]


def test_a_failing_link_leaves_no_temporary(tmp_path, monkeypatch):
    def refuse(_source, _destination):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(fileio.os, "link", refuse)
    with pytest.raises(OSError) as caught:
        atomic_write(str(tmp_path / "app.lock"), "x", exclusive=True)
    assert caught.value.errno == errno.EPERM
    assert os.listdir(str(tmp_path)) == []


def test_an_interrupt_leaves_no_temporary(tmp_path, monkeypatch):
    def interrupted(_fd):
        raise KeyboardInterrupt()

    monkeypatch.setattr(fileio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(tmp_path / "file"), "x")
    assert os.listdir(str(tmp_path)) == []


def test_sync_directory_fsyncs_the_directory_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.path.isdir("/proc/self/fd/%d" % fd))
        return real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    atomic_write(str(tmp_path / "file"), "x")
    assert synced == [False]
    atomic_write(str(tmp_path / "file"), "y", sync_directory=True)
    assert synced == [False, False, True]
    assert atomic_write(str(tmp_path / "file"), "z", exclusive=True, sync_directory=True) is False
    assert synced == [False, False, True, False]  # nothing put in place, nothing to sync
