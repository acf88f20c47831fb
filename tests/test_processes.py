"""Telling whether a process named in what a command left behind still runs; workers that die with their parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pgparity.processes import gone, owner


def ended_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_ended_process_of_this_machine_is_gone():
    assert gone(owner(ended_pid()))


def test_a_running_process_another_machine_or_no_process_is_never_taken_for_gone():
    assert not gone(owner())
    assert not gone(f"{ended_pid()}@another-machine")
    assert not gone("") and not gone("abc@" + owner().partition("@")[2])


def test_a_child_that_dies_with_its_parent_ends_when_the_parent_is_killed(tmp_path):
    record = tmp_path / "grandchild"
    code = ("import os, subprocess, sys, time; "
            "child = subprocess.Popen([sys.executable, '-c', 'import os, time; from pgparity.processes import die_with; "
            "die_with(int(os.environ[\"PARENT\"])); time.sleep(60)'], env={**os.environ, 'PARENT': str(os.getpid())}); "
            f"open({str(record)!r}, 'w').write(str(child.pid)); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while not (record.exists() and record.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(record.read_text())
    time.sleep(1)  # the grandchild has set its death signal
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{grandchild}") and "Z" not in open(f"/proc/{grandchild}/stat").read().split()[2] \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(owner(grandchild)) or "Z" in open(f"/proc/{grandchild}/stat").read().split()[2]
