#!/usr/bin/env python3
"""Build (or reuse) the local PostgreSQL 15 test image from Debian bookworm packages.

This machine has a Docker engine but no registry, so the official ``postgres`` image
cannot be pulled. Instead we debootstrap a minimal bookworm root from the machine's own
apt mirror, import it as a base image and finish it with a Dockerfile (no network
needed) whose entrypoint honours the official image's documented interface.

The tag carries a hash of the recipe, so an unchanged recipe is a cache hit that costs
one ``docker image ls``. The tag is the last line on stdout; progress goes to stderr.
"""

from __future__ import annotations

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
PG_MAJOR = "15"
SUITE = "bookworm"
PACKAGES = (f"postgresql-{PG_MAJOR}", "locales")
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
    f"var/lib/postgresql/{PG_MAJOR}",
    f"etc/postgresql/{PG_MAJOR}",
    "var/log/postgresql/*",
)


class BuildError(Exception):
    """A build step failed; the message is the one line the user gets to see."""


def progress(message: str) -> None:
    """Report progress on stderr, keeping stdout for the tag alone."""
    print(f"build_image: {message}", file=sys.stderr, flush=True)


def recipe_hash() -> str:
    """Hash names and contents of the recipe files, so any edit gives a new tag."""
    digest = hashlib.sha256()
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


def mirror_url() -> str:
    """The machine's configured mirror for `bookworm main` (not -security or -updates).

    Read at run time so no mirror host name is ever baked into the repository.
    """
    sources = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list")),
               *sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))]
    for source in sources:
        try:
            text = Path(source).read_text()
        except FileNotFoundError:
            continue
        parse = deb822_sources if source.endswith(".sources") else one_line_sources
        for uris, suites, components in parse(text):
            if SUITE in suites and "main" in components:
                for uri in uris:
                    if uri.startswith(("http://", "https://", "file:")):
                        return uri
    raise BuildError(f"no apt source on this machine serves '{SUITE} main'")


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


def debootstrap(root: Path) -> None:
    """Install a minimal bookworm with PostgreSQL into root, straight from the apt mirror."""
    mirror = mirror_url()
    progress(f"debootstrapping {SUITE} with {', '.join(PACKAGES)}")
    run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
         SUITE, str(root), mirror], "debootstrap")
    prune(root)


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


def build_final(base: str, tag: str, context: Path) -> None:
    """Finish the image from the Dockerfile; the legacy builder needs no buildx plugin."""
    for name in RECIPE:
        shutil.copy2(HERE / name, context / name)
    progress(f"building {tag}")
    run(["docker", "build", "--force-rm", "--label", LABEL, "--build-arg", f"BASE={base}",
         "--tag", tag, str(context)], "docker build", env={**os.environ, "DOCKER_BUILDKIT": "0"})


def unmount_below(path: Path) -> None:
    """Detach anything debootstrap left mounted (/proc, /sys) so rmtree cannot reach the host."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(f"{path}/")), reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)


def build(tag: str) -> None:
    """Debootstrap, import and finish the image; always clean up the work dir and base tag."""
    if os.geteuid() != 0:
        raise BuildError("building the image needs root (debootstrap creates device nodes)")
    base = f"{tag}-base"
    work = Path(tempfile.mkdtemp(prefix="pgparity-image-"))
    try:
        root, context = work / "root", work / "context"
        context.mkdir()
        debootstrap(root)
        import_root(root, base)
        build_final(base, tag, context)
    finally:
        unmount_below(work)
        shutil.rmtree(work)
        # Untags only: the final image keeps the imported layer as its parent.
        subprocess.run(["docker", "image", "rm", base], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def build_once(tag: str) -> None:
    """Build under a machine-wide lock: parallel test sessions share the engine and the base tag,
    so a second builder waits and then reuses the first one's image."""
    with open(Path(tempfile.gettempdir()) / f"{REPOSITORY}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image_exists(tag):
            build(tag)


def main() -> int:
    """Print the tag of an up-to-date image, building it first on a cache miss."""
    try:
        tag = f"{REPOSITORY}:{PG_MAJOR}-{recipe_hash()}"
        if not image_exists(tag):
            build_once(tag)
    except BuildError as exc:
        print(f"build_image: error: {exc}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
