"""The one way the guardrails read a repository's files: contained, regular files only, bounded.

A pull request controls every file we read, the config included. ``Reader.read`` refuses
(``NotRead``, naming the file rather than reading it):

- a path whose resolved target lies outside the reader's root: a symlinked file or any
  symlinked directory on the way (``symlink to outside the repository``), ``..``, an absolute
  path. A committed ``requirements-dev.txt -> /proc/self/environ`` is never opened;
- anything but a regular file: a FIFO (which would block), a socket, a device (``/dev/zero``
  would never end), checked with ``lstat`` before opening, and again with ``fstat`` on the
  descriptor (opened ``O_NOFOLLOW | O_NONBLOCK | O_NOCTTY``), so not even a symlink to one is
  opened;
- a file over ``max_size`` bytes (``[tool.guardrails] max-file-size``, default 10 MiB).

A missing file raises ``FileNotFoundError`` and a directory ``IsADirectoryError``, as ``open``.
"""

from __future__ import annotations

import os
from pathlib import Path
import stat

#: ``[tool.guardrails] max-file-size`` when not set
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


_O_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0)
            | getattr(os, "O_CLOEXEC", 0))

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


class Unreadable(Exception):
    """A file that cannot be used: ``message`` at ``line``:``col`` (either may be None)."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


class NotRead(Unreadable):
    """The file was deliberately not opened: outside the root, not a regular file."""


class TooBig(NotRead):
    """The file is over the size bound; it was not read."""


def size_text(n: int) -> str:
    """``10 MiB``, ``1.5 KiB``, ``12 bytes``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} byte{'s' if n != 1 else ''}"


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """``path``, with its symlinks followed, lies in ``root`` (also resolved: a repository
    reached through a symlinked directory, such as macOS's ``/var``, is still itself)."""
    return _within(os.path.realpath(path), os.path.realpath(root))


class Reader:
    """Reads files below ``root`` (a repository or submodule work tree)."""

    def __init__(self, root: str | os.PathLike[str], max_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.root: str = os.path.abspath(os.fspath(root))
        self.real_root: str = os.path.realpath(self.root)
        self.max_size = max_size
        #: target-relative directory -> its resolved path (None: resolves outside the root)
        self._dirs: dict[str, str | None] = {"": self.real_root}

    def _real_dir(self, parent: str) -> str | None:
        try:
            return self._dirs[parent]
        except KeyError:
            pass
        real = os.path.realpath(os.path.join(self.root, parent))
        got = real if _within(real, self.real_root) else None
        self._dirs[parent] = got
        return got

    def resolve(self, rel: str) -> str:
        """The resolved absolute path of root-relative ``rel``; ``NotRead`` if it lies outside
        the root; ``FileNotFoundError`` for a dangling symlink."""
        rel = rel.replace(os.sep, "/") if os.sep != "/" else rel
        if os.path.isabs(rel) or rel.startswith("/"):
            raise NotRead("not read: an absolute path, outside the repository")
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            norm = os.path.normpath(rel)
            if norm == ".." or norm.startswith(".." + os.sep) or norm.startswith("../"):
                raise NotRead("not read: outside the repository")
            parts = [p for p in norm.replace(os.sep, "/").split("/") if p not in ("", ".")]
            if not parts:
                raise IsADirectoryError(rel)
        parent, name = "/".join(parts[:-1]), parts[-1]
        real_dir = self._real_dir(parent)
        if real_dir is None:
            raise NotRead("not read: symlink to outside the repository")
        full = os.path.join(real_dir, name)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            raise
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(full)
            if not _within(real, self.real_root):
                raise NotRead("not read: symlink to outside the repository")
            if not os.path.lexists(real):
                raise FileNotFoundError(f"dangling symlink: {rel}")
            return real
        return full

    def read(self, rel: str) -> bytes:
        """The bytes of root-relative ``rel``; see the module docstring for what is refused."""
        full = self.resolve(rel)
        st = os.lstat(full)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(rel)
        if not stat.S_ISREG(st.st_mode):
            raise NotRead(f"not read: {_kind(st.st_mode)}, not a regular file")
        if st.st_size > self.max_size:
            raise self.too_big(st.st_size)
        fd = os.open(full, _O_FLAGS)
        try:
            fst = os.fstat(fd)
            if not stat.S_ISREG(fst.st_mode) or (fst.st_ino, fst.st_dev) != (st.st_ino, st.st_dev):
                raise NotRead("not read: changed while it was read")
            size = fst.st_size
            chunks = [os.read(fd, min(size, self.max_size) + 1)]
            got = len(chunks[0])
            while chunks[-1] and got <= self.max_size and got != size:  # short read, or growing
                chunks.append(os.read(fd, self.max_size + 1 - got))
                got += len(chunks[-1])
            if got > self.max_size:
                raise self.too_big(got)
        finally:
            os.close(fd)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def too_big(self, size: int) -> TooBig:
        return TooBig(f"not read: {size_text(size)}, over max-file-size ({size_text(self.max_size)})")


def byte_location(raw: bytes, off: int) -> tuple[int, int]:
    """1-based (line, column) of byte offset ``off``."""
    start = raw.rfind(b"\n", 0, off) + 1
    return raw.count(b"\n", 0, off) + 1, off - start + 1


def read_file(path: str | os.PathLike[str], root: str | os.PathLike[str],
              max_size: int = DEFAULT_MAX_FILE_SIZE) -> bytes:
    """``Reader(root, max_size).read`` of an absolute or root-relative ``path``."""
    reader = Reader(root, max_size)
    p = os.path.abspath(os.path.join(reader.root, os.fspath(path)))
    if not _within(p, reader.root):
        raise NotRead("not read: outside the repository")
    return reader.read(Path(os.path.relpath(p, reader.root)).as_posix())
