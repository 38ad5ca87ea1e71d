"""Secret references: where a secret is read from, kept instead of the secret itself.

A reference names a secret inside the space the operator set aside for secrets, and nowhere
else, so a user who may write a reference cannot make the server read (and send away) any
other value it can reach:

- `env:ROADMAP_SECRET_<NAME>`: an environment variable whose name starts with `ROADMAP_SECRET_`
  (never `ROADMAP_DATABASE_URL`, `ROADMAP_JWT_SECRET` or anything else of the process);
- `file:<dir>/<name>`: a regular file directly inside the secrets directory (`ROADMAP_SECRETS_DIR`,
  by default `/run/secrets`, where Docker and Kubernetes mount secrets): no subdirectory, no
  `..`, no hidden name, and no symbolic link that leads out of the directory. Kubernetes' own
  links (`name -> ..data/name`) stay inside it, so they are followed.

Only the reference is stored or returned by an API; the value is read when it is needed and is
never logged, returned or put in an exception message. A reference is checked when it is
given and again each time it is read, so a stored reference made under older rules (or a
directory the operator moved) cannot be read from outside the space either.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

ENV_PREFIX = "ROADMAP_SECRET_"
DEFAULT_SECRETS_DIR = Path("/run/secrets")
# A secret is a token or a key: anything longer is not what the operator meant to mount.
MAX_SECRET_BYTES = 64 * 1024

_ENV = re.compile(rf"env:({ENV_PREFIX}[A-Za-z0-9_]{{1,100}})")
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")


class SecretError(ValueError):
    """A reference that is malformed, outside the secrets space, or names nothing readable.

    Its message holds no secret: at most the reference, which is not one.
    """


def expected_form(secrets_dir: Path) -> str:
    """The two forms a reference may take, said for a user who gave another one."""
    return f"must be env:{ENV_PREFIX}<NAME> or file:{PurePosixPath(secrets_dir)}/<file name>"


def check_reference(reference: str, *, secrets_dir: Path = DEFAULT_SECRETS_DIR) -> None:
    """Raise SecretError unless `reference` names a secret inside the operator's secrets space.

    This looks at the reference only (the file need not exist yet); `read_secret` checks again
    what the reference leads to when it is read.
    """
    if reference.startswith("file:"):
        _file_in(reference, secrets_dir)
    else:
        _env_name(reference, secrets_dir)


def read_secret(
    reference: str, *, secrets_dir: Path = DEFAULT_SECRETS_DIR, environ: Mapping[str, str] | None = None
) -> str:
    """The secret a reference names; SecretError (naming the reference only) when refused, absent or empty."""
    if reference.startswith("file:"):
        value = _read_file(_file_in(reference, secrets_dir), secrets_dir, reference)
    else:
        name = _env_name(reference, secrets_dir)
        value = (os.environ if environ is None else environ).get(name, "")
    value = value.strip()
    if not value:
        raise SecretError(f"{reference} is empty or not set")
    return value


def _env_name(reference: str, secrets_dir: Path) -> str:
    match = _ENV.fullmatch(reference)
    if match is None:
        raise SecretError(expected_form(secrets_dir))
    return match.group(1)


def _file_in(reference: str, secrets_dir: Path) -> Path:
    """The file a `file:` reference names, if it is written as a file directly inside the directory."""
    written = reference.removeprefix("file:")
    path = PurePosixPath(written)
    directory = PurePosixPath(secrets_dir)
    # Compared as written, before anything touches the file system: `..`, `.`, `//` and
    # relative paths never pass, whatever the directory holds.
    if (
        "\x00" in written
        or str(path) != written
        or not path.is_absolute()
        or path.parent != directory
        or not _FILE_NAME.fullmatch(path.name)
    ):
        raise SecretError(expected_form(secrets_dir))
    return Path(written)


def _read_file(path: Path, secrets_dir: Path, reference: str) -> str:
    try:
        # A link is followed only while it stays inside the directory (Kubernetes' ..data links do).
        real_dir, real_file = secrets_dir.resolve(strict=True), path.resolve(strict=True)
        if real_dir not in real_file.parents:
            raise SecretError(f"{reference} leads out of the secrets directory")
        # O_NONBLOCK: a FIFO planted under the name must not hang the reader; fstat then refuses it.
        fd = os.open(real_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        raise SecretError(f"{reference} cannot be read") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SecretError(f"{reference} is not a regular file")
        raw = os.read(fd, MAX_SECRET_BYTES + 1)
    except OSError:
        raise SecretError(f"{reference} cannot be read") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_SECRET_BYTES:
        raise SecretError(f"{reference} is larger than a secret can be ({MAX_SECRET_BYTES} bytes)")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise SecretError(f"{reference} is not UTF-8 text") from None
