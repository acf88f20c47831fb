"""What pgparity writes into a project: self-ignoring folders, files written whole."""

from __future__ import annotations

import os

import pytest

from pgparity.folders import own_folder, umask, write_whole


def test_a_folder_ignores_itself_in_git(tmp_path):
    folder = own_folder(tmp_path / "dumps", "sanitized production dumps")
    assert (folder / ".gitignore").read_text() == "# sanitized production dumps: never committed\n*\n"
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask()


def test_a_private_folder_is_its_owners_alone_even_when_it_existed(tmp_path):
    (tmp_path / "dumps").mkdir(mode=0o755)
    folder = own_folder(tmp_path / "dumps", "sanitized production dumps", private=True)
    assert folder.stat().st_mode & 0o777 == 0o700 and (folder / ".gitignore").read_text().endswith("\n*\n")


def test_a_file_is_replaced_whole_keeping_its_mode_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "pgparity.toml"
    write_whole(path, "a = 1\n")
    assert path.read_text() == "a = 1\n" and path.stat().st_mode & 0o777 == 0o666 & ~umask()
    path.chmod(0o640)
    write_whole(path, "a = 2\n")
    assert path.read_text() == "a = 2\n" and path.stat().st_mode & 0o777 == 0o640

    def broken_replace(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_whole(path, "a = 3\n")
    assert path.read_text() == "a = 2\n" and sorted(p.name for p in tmp_path.iterdir()) == ["pgparity.toml"]

