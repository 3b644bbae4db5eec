"""Redis commands packed for the wire in one piece (RESP), for the hot paths that send many of
them at once (intake's accept calls, the ingester's tracking updates): hiredis's C packer where
redis-py's generic pipeline would encode every argument in Python."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_pack_command: Callable[[tuple[Any, ...]], Any] | None
try:
    from hiredis import pack_command as _pack_command
except ImportError:  # pragma: no cover - hiredis is a dependency; kept for a bare redis-py
    _pack_command = None


def pack(args: Sequence[Any]) -> bytes:
    """One command (str, bytes or int arguments) as RESP bytes."""
    if _pack_command is not None:
        return bytes(_pack_command(tuple(args)))
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else (a if isinstance(a, str) else str(a)).encode()
        out.append(b"$%d\r\n%b\r\n" % (len(b), b))
    return b"".join(out)
