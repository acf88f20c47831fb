#!/usr/bin/env python3
"""Build (or reuse) a local PostgreSQL test image from the Debian suite that ships that major.

Usage: ``build_image.py [MAJOR]`` (default 15). Without a registry the official ``postgres``
image cannot be pulled. Instead we debootstrap a minimal root of the suite from the machine's
own apt mirror, apply the suite's security updates, import it as a base image and finish it
with a Dockerfile (no network needed) whose entrypoint honours the official image's
documented interface.

The image is tagged ``<major>-<recipe hash>`` and ``<major>``. The hash covers the major, so
each major is cached on its own, and an unchanged recipe is a cache hit that costs one
``docker image ls``. The hash tag is the last line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Everything the image is made from; the Dockerfile's build context is exactly these files.
RECIPE = ("build_image.py", "Dockerfile", "docker-entrypoint.sh")
REPOSITORY = "pgparity-test-postgres"
DEFAULT_MAJOR = "15"
# The Debian suite whose main archive ships postgresql-<major>.
SUITES = {"13": "bullseye", "15": "bookworm", "17": "trixie", "18": "sid"}
# sid is never a release, so it has no security archive: its updates land in main.
UNRELEASED = {"sid"}
LABEL = "pgparity.test-image=1"
# Left behind by debootstrap but useless in a container. Pruned before the import because a
# RUN rm in the Dockerfile could not shrink the imported layer. The cluster Debian creates on
# install goes too: the entrypoint initialises its own in PGDATA.
PRUNE = (
    "var/cache/apt/archives/*.deb",
    "var/cache/apt/*.bin",
    "var/lib/apt/lists/*_*",
    "usr/share/man",
    "usr/share/info",
    "var/lib/postgresql/*",
    "etc/postgresql/*",
    "var/log/postgresql/*",
)
# Kept in the root only while apt upgrades it: no package may start a server in the chroot.
POLICY_RC = "usr/sbin/policy-rc.d"


class BuildError(Exception):
    """A build step failed; the message is the one line the user gets to see."""


def progress(message: str) -> None:
    """Report progress on stderr, keeping stdout for the tag alone."""
    print(f"build_image: {message}", file=sys.stderr, flush=True)


def recipe_hash(major: str) -> str:
    """Hash the major, its suite and the recipe files, so any edit or other major gives a new tag."""
    digest = hashlib.sha256(f"{major}\0{SUITES[major]}\0".encode())
    for name in RECIPE:
        path = HERE / name
        if not path.is_file():
            raise BuildError(f"recipe file {path} is missing")
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def run(args: list[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command with its output on stderr; turn any failure into a one-line BuildError."""
    try:
        return subprocess.run(args, check=True, **{"stdout": sys.stderr, **kwargs})
    except FileNotFoundError:
        raise BuildError(f"{args[0]} is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"{what} failed (exit status {exc.returncode})") from None


def image_exists(tag: str) -> bool:
    """Ask the engine for the tag; unlike `image inspect`, a missing image is not an error here."""
    result = run(["docker", "image", "ls", "--quiet", tag], "asking docker for the image",
                 stdout=subprocess.PIPE, text=True)
    return bool(result.stdout.strip())


def one_line_sources(text: str) -> Iterator[tuple[list[str], list[str], list[str]]]:
    """Yield (uris, suites, components) of each `deb` line of a one-line-style sources file."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words.pop(0).endswith("]"):
                pass
        if len(words) >= 2:
            yield words[:1], words[1:2], words[2:]


def deb822_sources(text: str) -> Iterator[tuple[list[str], list[str], list[str]]]:
    """Yield (uris, suites, components) of each enabled `deb` stanza of a deb822 .sources file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = (part.strip() for part in line.split(":", 1))
                key = key.lower()
                fields[key] = value
        if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes").lower() != "no":
            yield fields.get("uris", "").split(), fields.get("suites", "").split(), \
                fields.get("components", "").split()


def mirror_url(suffix: str) -> str:
    """The machine's mirror of Debian's main archive (suffix "") or security archive ("-security").

    Recognised by a Debian suite name + suffix serving main; the same archive serves every
    suite, so a bookworm machine's mirror also has bullseye, trixie and sid. Read at run time
    so no mirror host name is ever baked into the repository.
    """
    wanted = {suite + suffix for suite in SUITES.values()}
    sources = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list")),
               *sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))]
    for source in sources:
        try:
            text = Path(source).read_text()
        except FileNotFoundError:
            continue
        parse = deb822_sources if source.endswith(".sources") else one_line_sources
        for uris, suites, components in parse(text):
            if wanted & set(suites) and "main" in components:
                for uri in uris:
                    if uri.startswith(("http://", "https://", "file:")):
                        return uri
    raise BuildError(f"no apt source on this machine serves Debian's '<suite>{suffix} main'")


def remove(path: Path) -> None:
    """Delete a file, symlink or directory tree; already gone is fine."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def prune(root: Path) -> None:
    """Drop caches, manuals and docs (keeping copyright notices) from the root before import."""
    for pattern in PRUNE:
        for path in root.glob(pattern):
            remove(path)
    for path in root.glob("usr/share/doc/*/*"):
        if path.name != "copyright":
            remove(path)


def debootstrap(root: Path, major: str) -> None:
    """Install a minimal root of the major's suite with PostgreSQL, straight from the apt mirror."""
    suite, packages = SUITES[major], (f"postgresql-{major}", "locales")
    progress(f"debootstrapping {suite} with {', '.join(packages)}")
    run(["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
         suite, str(root), mirror_url("")], "debootstrap")


def apply_security_updates(root: Path, suite: str) -> None:
    """Upgrade the root from the suite's security archive: debootstrap reads the main archive only,
    which lags the security releases (PostgreSQL's minor releases among them)."""
    if suite in UNRELEASED:
        return
    sources = root / "etc/apt/sources.list"
    sources.write_text(f"deb {mirror_url('')} {suite} main\n"
                       f"deb {mirror_url('-security')} {suite}-security main\n")
    progress(f"applying {suite}-security updates")
    policy = root / POLICY_RC
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"}
    # The chroot has no /dev/pts, so dpkg must log without a pseudo-terminal.
    apt = ["chroot", str(root), "apt-get", "-qq", "-o", "Dpkg::Use-Pty=0"]
    try:
        run([*apt, "update"], "apt-get update", env=env)
        run([*apt, "-y", "upgrade"], "apt-get upgrade", env=env)
    finally:
        policy.unlink()


def import_root(root: Path, tag: str) -> None:
    """Stream the root file system into the engine as a single-layer image."""
    progress(f"importing the root file system as {tag}")
    # Leaving the block closes the pipe and waits, so tar cannot outlive a failed import.
    with subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."],
                          stdout=subprocess.PIPE) as tar:
        run(["docker", "import", "--change", f"LABEL {LABEL}", "-", tag], "docker import",
            stdin=tar.stdout)
    if tar.returncode != 0:
        raise BuildError(f"tar of the root file system failed (exit status {tar.returncode})")


def data_layout(major: str) -> tuple[str, str]:
    """(PGDATA, volume) as the official image has them: since 18 the cluster sits in a
    major-specific directory below one volume, so pg_upgrade --link works within it."""
    if int(major) >= 18:
        return f"/var/lib/postgresql/{major}/docker", "/var/lib/postgresql"
    return "/var/lib/postgresql/data", "/var/lib/postgresql/data"


def build_final(base: str, tag: str, major: str, context: Path) -> None:
    """Finish the image from the Dockerfile; the legacy builder needs no buildx plugin."""
    for name in RECIPE:
        shutil.copy2(HERE / name, context / name)
    pgdata, volume = data_layout(major)
    arguments = {"BASE": base, "PG_MAJOR": major, "PGDATA": pgdata, "DATA_VOLUME": volume}
    progress(f"building {tag}")
    run(["docker", "build", "--force-rm", "--label", LABEL,
         *(f"--build-arg={name}={value}" for name, value in arguments.items()),
         "--tag", tag, str(context)], "docker build", env={**os.environ, "DOCKER_BUILDKIT": "0"})


def unmount_below(path: Path) -> None:
    """Detach anything debootstrap left mounted (/proc, /sys) so rmtree cannot reach the host."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(f"{path}/")), reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)


def build(tag: str, major: str) -> None:
    """Debootstrap, update, import and finish the image; always clean up the work dir and base tag."""
    if os.geteuid() != 0:
        raise BuildError("building the image needs root (debootstrap creates device nodes)")
    base = f"{tag}-base"
    work = Path(tempfile.mkdtemp(prefix="pgparity-image-"))
    try:
        root, context = work / "root", work / "context"
        context.mkdir()
        debootstrap(root, major)
        apply_security_updates(root, SUITES[major])
        prune(root)
        import_root(root, base)
        build_final(base, tag, major, context)
    finally:
        unmount_below(work)
        shutil.rmtree(work)
        # Untags only: the final image keeps the imported layer as its parent.
        subprocess.run(["docker", "image", "rm", base], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def build_once(tag: str, major: str) -> None:
    """Build under a machine-wide lock: parallel test sessions share the engine and the base tag,
    so a second builder waits and then reuses the first one's image."""
    with open(Path(tempfile.gettempdir()) / f"{REPOSITORY}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image_exists(tag):
            build(tag, major)


def main(argv: list[str]) -> int:
    """Print the hash tag of an up-to-date image of the major, building it first on a cache miss."""
    parser = argparse.ArgumentParser(description="Build the PostgreSQL test image of one major.")
    parser.add_argument("major", nargs="?", default=DEFAULT_MAJOR, choices=sorted(SUITES, key=int))
    major = parser.parse_args(argv).major
    try:
        tag = f"{REPOSITORY}:{major}-{recipe_hash(major)}"
        if not image_exists(tag):
            build_once(tag, major)
        # The plain major tag follows the current recipe, also on a cache hit.
        run(["docker", "tag", tag, f"{REPOSITORY}:{major}"], "docker tag")
    except BuildError as exc:
        print(f"build_image: error: {exc}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
