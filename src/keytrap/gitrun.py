"""The one door to git (and to child interpreters). Every git process keytrap starts is built here.

keytrap runs on repositories it must not trust: a fresh clone of someone else's code, a pull
request from a fork, a folder received as an archive. Git reads that repository's own
``.git/config``, and some settings there name programs git will run. So every git call:

* is pointed at a **known location**: ``-C TOP`` (the work tree top found by walking up to
  ``.git``) or ``--git-dir DIR`` for a bare repository, never a folder inside the scanned tree
  (a committed ``vendor/lib/`` holding ``HEAD``/``objects``/``refs``/``config`` is a repository
  git would otherwise discover and obey);
* carries :data:`SAFE_CONFIG`, command-line settings that win over any repository config:
  no fsmonitor hook (``core.fsmonitor``), no signature checks (``log.showSignature`` would run
  ``gpg.program``), no implicit bare repositories (``safe.bareRepository=explicit``), no
  transport at all (``protocol.allow=never``: a lazy fetch of a partial clone would run
  ``core.sshCommand`` or an ``ext::`` helper), no credential helpers, no pager, no automatic gc
  or maintenance (none of the commands keytrap runs starts a hook);
* runs with :func:`env`: ``GIT_OPTIONAL_LOCKS=0`` (a scan writes nothing, not even an index
  refresh), no lazy fetch, no prompts, ``LC_ALL=C``;
* runs only after :func:`check_repository` accepted the repository's config files: each one,
  and each file their ``include.path``/``includeIf.*.path`` settings name (followed 10 deep,
  relative to the file that names it), must be a regular file of at most 1 MiB. git reads
  them all on start-up, and one that is a FIFO, ``/dev/zero`` or a huge file would hang every
  command. A refused repository is a one-line :class:`~keytrap.errors.GitError` (exit 2);
* has a time limit when its output is captured (:func:`run`): ``KEYTRAP_GIT_TIMEOUT`` seconds,
  1800 by default; git and anything it started are killed when it runs out. Streaming readers
  (:func:`popen`: ``cat-file --batch``, ``log``) live as long as the scan and rely on the
  checks above.

Commands that could still run a configured program are avoided or disarmed at the call site:
diffs use ``--no-ext-diff --no-textconv`` and only ``--raw`` output; no command that runs
filters (``cat-file --filters``, ``status``, ``checkout``) is used.

Child Python interpreters (history workers) start isolated: ``python -I`` ignores ``PYTHONPATH``,
the user site and the current folder, and the code puts keytrap's own package folder first on
``sys.path``, so a ``keytrap/`` package committed in a scanned repository is never imported.

Stdlib only and cheap to import: the pre-commit hook uses it on every commit.
"""

from __future__ import annotations

import os
import subprocess
import sys

from keytrap.errors import GitError

TYPE_CHECKING = False  # typing is not imported at run time: the hook starts with this module
if TYPE_CHECKING:
    from typing import IO

#: Settings passed with ``-c`` on every git call; command-line config beats repository config.
SAFE_CONFIG: tuple[str, ...] = (
    "-c", "core.fsmonitor=false",
    "-c", "core.pager=cat",
    "-c", "log.showSignature=false",
    "-c", "safe.bareRepository=explicit",
    "-c", "protocol.allow=never",
    "-c", "credential.helper=",
    "-c", "gc.auto=0",
    "-c", "maintenance.auto=false",
    "-c", "core.untrackedCache=false",
)

_ENV_FIXED = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_LAZY_FETCH": "1",  # git >= 2.44
    # older git: a lazy fetch goes through a transport; allow none, so it fails offline
    "GIT_ALLOW_PROTOCOL": "keytrap-no-fetch",
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
}
#: Set by the caller's environment but wrong for a scan of a given repository: they would point
#: git somewhere else. Kept for the hook (git itself sets them for the repository it runs in).
_REPO_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
             "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM")


def env(*, keep_repo_env: bool = False) -> dict[str, str]:
    """The environment for a git child. ``keep_repo_env`` keeps ``GIT_DIR``/``GIT_INDEX_FILE``…
    (the hook runs inside the repository git is committing to: ``commit -a`` uses a temporary
    index named by ``GIT_INDEX_FILE``)."""
    out = dict(os.environ) if keep_repo_env else {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    out.update(_ENV_FIXED)
    return out


class Location:
    """Where git is pointed: a work tree top (``-C``) or a bare repository (``--git-dir``)."""

    __slots__ = ("top", "git_dir")

    def __init__(self, top: str | None = None, git_dir: str | None = None) -> None:
        if (top is None) == (git_dir is None):
            raise ValueError("give exactly one of top and git_dir")
        self.top = os.path.abspath(top) if top is not None else None
        self.git_dir = os.path.abspath(git_dir) if git_dir is not None else None

    @property
    def bare(self) -> bool:
        return self.git_dir is not None

    @property
    def path(self) -> str:
        return self.top if self.top is not None else self.git_dir  # type: ignore[return-value]

    def args(self) -> list[str]:
        if self.git_dir is not None:
            return ["--git-dir", self.git_dir]
        return ["-C", self.top]  # type: ignore[list-item]

    def __repr__(self) -> str:
        return f"Location({'git_dir' if self.bare else 'top'}={self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and (self.top, self.git_dir) == (other.top, other.git_dir)

    def __hash__(self) -> int:
        return hash((self.top, self.git_dir))


def looks_like_git_dir(path: str) -> bool:
    """``path`` holds ``HEAD``, ``objects/`` and ``refs/``: a git directory (bare or ``.git``)."""
    return (
        os.path.isfile(os.path.join(path, "HEAD"))
        and os.path.isdir(os.path.join(path, "objects"))
        and os.path.isdir(os.path.join(path, "refs"))
    )


def find_top(path: str) -> str | None:
    """The nearest folder at or above ``path`` that holds a ``.git`` entry, without running git.

    Nested bare repositories inside a work tree are not repositories for keytrap: only a
    ``.git`` (folder or gitfile) marks a work tree top.
    """
    folder = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def locate(path: str) -> Location | None:
    """The repository ``path`` belongs to: the work tree above it, else ``path`` itself when it
    is a bare repository (a mirror, ``repo.git``) or a ``.git`` folder. None outside git."""
    top = find_top(path)
    if top is not None:
        real = os.path.realpath(path)
        git_entry = os.path.realpath(os.path.join(top, ".git"))
        if real == git_entry or real.startswith(git_entry + os.sep):
            return Location(git_dir=git_entry)  # asked about the .git folder itself
        return Location(top=top)
    if os.path.isdir(path) and looks_like_git_dir(path):
        return Location(git_dir=path)
    return None


def argv(where: Location | str, *args: str) -> list[str]:
    """The full command line for ``git ARGS`` at ``where`` (a Location, or a work tree top)."""
    loc = where if isinstance(where, Location) else Location(top=where)
    return ["git", *loc.args(), *SAFE_CONFIG, *args]


#: Default seconds for one git command whose output is captured (``KEYTRAP_GIT_TIMEOUT``).
GIT_TIMEOUT = 1800.0


def default_timeout() -> float:
    """``KEYTRAP_GIT_TIMEOUT`` (seconds, positive), else :data:`GIT_TIMEOUT`."""
    raw = os.environ.get("KEYTRAP_GIT_TIMEOUT", "").strip()
    if not raw:
        return GIT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        from keytrap.errors import UsageError

        raise UsageError(f"KEYTRAP_GIT_TIMEOUT must be a positive number of seconds, got {raw[:40]!r}")
    return value


def run(
    where: Location | str,
    *args: str,
    input: bytes | None = None,
    keep_repo_env: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git and capture its output. Raises :class:`~keytrap.errors.GitError` (one line)
    when git cannot be started (:func:`cannot_start`) or :func:`check_repository` refuses the
    repository, and :class:`GitTimeout` (a GitError and a ``subprocess.TimeoutExpired``)
    after ``timeout`` seconds (default :func:`default_timeout`; git and every process it
    started are killed first)."""
    check_repository(where, keep_repo_env=keep_repo_env)
    limit = timeout if timeout is not None else default_timeout()
    try:
        return _run_killable(argv(where, *args), input, env(keep_repo_env=keep_repo_env), limit)
    except subprocess.TimeoutExpired as exc:
        raise GitTimeout(args[0] if args else "", limit, exc.cmd) from None


#: What every surface says when there is no git to run.
NOT_INSTALLED = "git is not installed or not on PATH"


class GitNotStarted(GitError):
    """git could not be started at all (one line): nothing about the repository is known."""


def cannot_start(exc: OSError) -> GitNotStarted:
    """The one-line error for a git that could not be started: not installed, or the system
    refused a process (``EAGAIN``, ``EMFILE``, ``ENOMEM``)."""
    if isinstance(exc, FileNotFoundError):
        return GitNotStarted(NOT_INSTALLED)
    return GitNotStarted(f"cannot run git: {exc.strerror or exc}")


def widen_pipe(stream: object, sizes: tuple[int, ...]) -> None:
    """Ask Linux for a larger buffer on the pipe behind ``stream``: the first of ``sizes`` the
    system allows (above /proc/sys/fs/pipe-max-size a size is refused), else keep the default.
    A no-op without ``F_SETPIPE_SZ`` (not Linux) or without a stream."""
    try:
        import fcntl
    except ImportError:  # Windows
        return
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setpipe is None or stream is None:
        return
    for size in sizes:
        try:
            fcntl.fcntl(stream.fileno(), setpipe, size)  # type: ignore[attr-defined]
            return
        except OSError:
            continue


class GitTimeout(GitError, subprocess.TimeoutExpired):
    """A git command ran out of time (one line, exit 2); still a ``TimeoutExpired``."""

    def __init__(self, command: str, seconds: float, cmd: object = None) -> None:
        GitError.__init__(self, f"git {command} did not finish within {seconds:g} s and was stopped "
                                "(KEYTRAP_GIT_TIMEOUT sets the limit)")
        self.cmd, self.timeout, self.output, self.stderr = cmd, seconds, None, None

    def __str__(self) -> str:
        return str(self.args[0])


def _run_killable(cmd: list[str], input: bytes | None, environ: dict[str, str], timeout: float,
                  cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """``cmd`` (a git command line) with its output captured; raises :class:`GitNotStarted`
    when it cannot start, ``subprocess.TimeoutExpired`` once git and every process it started
    have been killed after ``timeout`` seconds."""
    import signal

    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ, start_new_session=True,
        )
    except OSError as exc:
        raise cannot_start(exc) from None
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # git and every helper it started
        except (ProcessLookupError, PermissionError):
            pass
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def popen(
    where: Location | str, *args: str, keep_repo_env: bool = False, **kwargs: object
) -> subprocess.Popen[bytes]:
    """Start git with pipes chosen by the caller (``stdin``/``stdout``/``stderr`` kwargs).
    Raises :class:`~keytrap.errors.GitError` when git cannot be started (:func:`cannot_start`)
    or :func:`check_repository` refuses the repository."""
    check_repository(where, keep_repo_env=keep_repo_env)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    try:
        return subprocess.Popen(argv(where, *args), env=env(keep_repo_env=keep_repo_env), **kwargs)  # type: ignore[call-overload]
    except OSError as exc:
        raise cannot_start(exc) from None


def popen_logged(where: Location | str, *args: str, **kwargs: object) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """:func:`popen` with stderr going to a new temporary file, returned beside the process:
    the caller reads it once the process is reaped (git's reason, when it fails) and closes it.
    A file, not a pipe: git can write any amount without waiting for a reader."""
    import tempfile

    errfile = tempfile.TemporaryFile()
    try:
        return popen(where, *args, stderr=errfile, **kwargs), errfile
    except BaseException:
        errfile.close()
        raise


# --- the files git reads on start-up ----------------------------------------------------------

#: The most a repository config file, or a file one includes, may hold.
CONFIG_LIMIT = 1024 * 1024
#: How deep ``include.path`` chains are followed (git's own limit is 10 as well).
INCLUDE_DEPTH = 10

_ACCEPTED: set[str] = set()


def check_repository(where: Location | str, *, keep_repo_env: bool = False) -> None:
    """Refuse (``GitError``, one line) a repository whose start-up files could hang git.

    Checked: the ``.git`` file of a linked worktree or submodule, ``commondir``, ``HEAD``, the
    config files (``config``, ``config.worktree``, of the git dir and the common dir), and every
    file their ``include.path`` and ``includeIf.*.path`` settings name, whatever the condition,
    followed :data:`INCLUDE_DEPTH` deep: each must be a regular file of at most
    :data:`CONFIG_LIMIT` bytes (a missing include is fine: git skips it). Once per git dir and
    process; the files are read without blocking (:mod:`keytrap.boundedfile`).
    """
    loc = where if isinstance(where, Location) else Location(top=where)
    git_dir = None
    if keep_repo_env and os.environ.get("GIT_DIR"):
        git_dir = os.path.abspath(os.environ["GIT_DIR"])
    key = f"{loc.path}\0{git_dir or ''}"
    if key in _ACCEPTED:
        return
    from keytrap.boundedfile import Refused

    try:
        _check_start_files(loc, git_dir)
    except Refused as exc:
        raise GitError(f"refusing to run git in {loc.path}: {exc}") from None
    _ACCEPTED.add(key)


def _check_start_files(loc: Location, git_dir: str | None) -> None:
    from keytrap.boundedfile import Refused, read_regular

    def small(path: str, what: str) -> bytes | None:
        try:
            return read_regular(path, CONFIG_LIMIT)
        except Refused as exc:
            raise Refused(f"{what} {path} is {exc}") from None
        except OSError:
            return None  # missing or unreadable: git says so itself, without hanging

    if git_dir is None:
        if loc.git_dir is not None:
            git_dir = loc.git_dir
        else:
            dot_git = os.path.join(loc.top, ".git")  # type: ignore[arg-type]
            if os.path.isdir(dot_git):
                git_dir = dot_git
            else:
                data = small(dot_git, "the gitfile")
                if data is None or not data.startswith(b"gitdir:"):
                    return  # not a repository: git says so
                target = os.fsdecode(data[len(b"gitdir:"):].strip())
                git_dir = os.path.join(loc.top, target)  # type: ignore[arg-type]
    common = git_dir
    data = small(os.path.join(git_dir, "commondir"), "the file")
    if data is not None and data.strip():
        common = os.path.join(git_dir, os.fsdecode(data.strip()))
    small(os.path.join(git_dir, "HEAD"), "the file")
    seen: set[str] = set()
    for folder in dict.fromkeys((common, git_dir)):
        for name in ("config", "config.worktree"):
            _check_config(os.path.join(folder, name), 0, seen, small)
        for name in ("packed-refs", "shallow", "info/grafts"):
            small(os.path.join(folder, name), "the file")
        _check_refs(os.path.join(folder, "refs"))
    _check_alternates(os.path.join(common, "objects"), 0, set(), small)


def _check_refs(folder: str) -> None:
    """Loose refs are read with a plain ``open()``: one that is a FIFO hangs every command that
    lists refs (``log --all``). Each entry under ``refs/`` must be a folder or a regular file."""
    import stat

    from keytrap.boundedfile import Refused, not_regular

    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                mode = os.stat(path).st_mode
            except OSError:
                continue  # dangling symlink, unreadable: git reports it
            if not stat.S_ISREG(mode):
                raise Refused(f"the ref {path} is {not_regular(mode)}")


def _check_alternates(objects: str, depth: int, seen: set[str], small) -> None:  # noqa: ANN001
    """``objects/info/alternates`` names more object stores, each with its own alternates (git
    follows 5 deep): each such file is read when git looks an object up."""
    real = os.path.realpath(objects)
    if depth > 5 or real in seen:
        return
    seen.add(real)
    data = small(os.path.join(objects, "info", "alternates"), "the file")
    if not data:
        return
    for line in data.splitlines():
        line = line.strip()
        if not line or line.startswith(b"#") or line.startswith(b'"'):
            continue
        target = os.fsdecode(line)
        if not os.path.isabs(target):
            target = os.path.join(objects, target)
        _check_alternates(target, depth + 1, seen, small)


def _check_config(path: str, depth: int, seen: set[str], small) -> None:  # noqa: ANN001
    from keytrap.boundedfile import Refused

    real = os.path.realpath(path)
    if real in seen:
        return
    seen.add(real)
    what = "the config file" if depth == 0 else "the included config file"
    data = small(path, what)
    if data is None or b"include" not in data.lower():
        return
    if depth >= INCLUDE_DEPTH:
        raise Refused(f"config includes are nested more than {INCLUDE_DEPTH} deep (at {path})")
    for target in _includes(path):
        if target.startswith("~"):
            target = os.path.expanduser(target)
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path), target)
        _check_config(target, depth + 1, seen, small)


def _includes(path: str) -> list[str]:
    """The ``include.path`` and ``includeIf.*.path`` values of one config file, read by git's
    own parser (``--no-includes``: only this file; run from ``/`` so no repository is read)."""
    cmd = ["git", *SAFE_CONFIG, "config", "--file", path, "--no-includes", "--null",
           "--get-regexp", r"^include(if\..*)?\.path$"]
    try:
        proc = _run_killable(cmd, None, env(), default_timeout(), cwd="/")
    except (GitNotStarted, subprocess.TimeoutExpired):
        return []  # git cannot read it either: it will say so
    out = []
    for entry in proc.stdout.split(b"\0"):
        _, sep, value = entry.partition(b"\n")
        if sep and value:
            out.append(os.fsdecode(value))
    return out


_VERSION: tuple[int, int] | None = None


def version() -> tuple[int, int]:
    """git's (major, minor), asked once per process; (0, 0) if unknown."""
    global _VERSION
    if _VERSION is None:
        try:
            out = subprocess.run(["git", "--version"], capture_output=True, env=env(), check=False).stdout
            major, minor = out.decode().split()[2].split(".")[:2]
            _VERSION = (int(major), int(minor))
        except (OSError, IndexError, ValueError):
            _VERSION = (0, 0)
    return _VERSION


# --- clone and fetch (keytrap audit) ----------------------------------------------------------
#
# The only git processes allowed to use a transport. Everything above still holds (SAFE_CONFIG,
# the fixed environment); on top of it:
#
# * Only the transports in :data:`TRANSFER_PROTOCOLS` work, for this command only:
#   ``GIT_ALLOW_PROTOCOL`` (which beats any configuration) names them, so ``ext::`` (runs a
#   command), ``fd::`` and plain ``http`` stay refused. A URL is never taken from a repository's
#   config: ``fetch`` names the URL and the refspec on the command line.
# * No hook runs (``core.hooksPath=/dev/null``, and ``--template=`` copies no sample hooks into
#   a new mirror): a fetch would otherwise run the ``reference-transaction`` hook.
# * ``--mirror`` has no work tree and checks nothing out: no ``post-checkout``, no filters, no
#   submodules (``fetch.recurseSubmodules=false``); no server-advertised bundle downloads.
# * ``file://`` is a transport too: git runs ``upload-pack`` *in the source repository*, which
#   reads that repository's config. The settings that name a program there are disarmed:
#   ``uploadpack.packObjectsHook`` is honoured only from protected (system, global,
#   command-line) config, never from the repository's own; ``core.fsmonitor`` is not used by
#   upload-pack and is switched off anyway, as our ``-c`` settings travel to the server side in
#   ``GIT_CONFIG_PARAMETERS``; ``core.alternateRefsCommand`` is read only by the side that
#   *receives* objects and has alternates, and a mirror made here has none. ``--no-local`` makes
#   a plain path go through the same transport instead of copying or hard-linking
#   ``objects/`` (which follows symlinks a hostile source planted there).
# * A timeout ends the whole process group (git, upload-pack, ssh), not only git.

#: Transports a clone or fetch may use.
TRANSFER_PROTOCOLS: tuple[str, ...] = ("https", "ssh", "git", "file")

_TRANSFER_CONFIG: tuple[str, ...] = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "fetch.recurseSubmodules=false",
    "-c", "submodule.recurse=false",
    "-c", "transfer.bundleURI=false",
    "-c", "fetch.writeCommitGraph=false",
    "-c", "fetch.showForcedUpdates=false",
    "-c", "http.lowSpeedLimit=1000",
    "-c", "http.lowSpeedTime=60",
    *(arg for name in TRANSFER_PROTOCOLS for arg in ("-c", f"protocol.{name}.allow=always")),
)

#: Default seconds for one clone or fetch.
TRANSFER_TIMEOUT = 1800.0


def transfer_env(http_header: tuple[str, str] | None = None) -> dict[str, str]:
    """The environment for a clone or fetch: :func:`env`, the allowed transports, and an
    optional HTTP header scoped to one URL prefix (``(url_prefix, "Authorization: …")``).

    The header travels in ``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``, never on a command line
    (``ps`` shows command lines to every user), and only for URLs under ``url_prefix``.
    """
    out = env()
    out["GIT_ALLOW_PROTOCOL"] = ":".join(TRANSFER_PROTOCOLS)
    if http_header is not None:
        prefix, value = http_header
        try:
            n = int(out.get("GIT_CONFIG_COUNT", "0") or 0)
        except ValueError:
            n = 0
        out[f"GIT_CONFIG_KEY_{n}"] = f"http.{prefix}.extraHeader"
        out[f"GIT_CONFIG_VALUE_{n}"] = value
        out["GIT_CONFIG_COUNT"] = str(n + 1)
    return out


def _transfer(cmd: list[str], cwd: str | None, timeout: float | None,
              http_header: tuple[str, str] | None) -> subprocess.CompletedProcess[bytes]:
    return _run_killable(cmd, None, transfer_env(http_header),
                         timeout if timeout is not None else TRANSFER_TIMEOUT, cwd=cwd)


def _check_local_source(url: str) -> None:
    """A ``file://`` URL or a path: git runs ``upload-pack`` in that repository, which reads its
    config and includes. :func:`check_repository` first, so a FIFO include there is refused
    (``GitError``) instead of holding the clone until its timeout."""
    if url.startswith("file://"):
        from urllib.parse import unquote

        path = unquote(url[len("file://"):])
    elif "://" in url or url.startswith("ext::") or not os.path.isabs(url):
        return
    else:
        path = url
    if os.path.isdir(path):
        loc = locate(path)
        if loc is not None:
            check_repository(loc)


def clone_mirror(
    url: str, dest: str, *, timeout: float | None = None, http_header: tuple[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git clone --mirror --no-local URL DEST``: a bare copy of every ref. ``dest`` must not
    exist. Raises ``subprocess.TimeoutExpired`` (after killing git and its helpers) on timeout,
    ``GitError`` when a local source repository is refused (:func:`_check_local_source`) or git
    cannot start (:class:`GitNotStarted`)."""
    _check_local_source(url)
    cmd = ["git", *SAFE_CONFIG, *_TRANSFER_CONFIG, "clone", "--mirror", "--no-local", "--template=",
           "--quiet", "--", url, dest]
    return _transfer(cmd, os.path.dirname(os.path.abspath(dest)), timeout, http_header)


def fetch_mirror(
    git_dir: str, url: str, *, timeout: float | None = None, http_header: tuple[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Bring a mirror made by :func:`clone_mirror` up to date with ``url``: every ref, forced,
    deleted refs pruned (their objects stay: an earlier audit's findings can still be read)."""
    _check_local_source(url)
    cmd = [*argv(Location(git_dir=git_dir)), *_TRANSFER_CONFIG, "fetch", "--quiet", "--prune",
           "--no-tags", "--", url, "+refs/*:refs/*"]
    return _transfer(cmd, None, timeout, http_header)


# --- child interpreters ------------------------------------------------------------------------

#: The folder that holds the ``keytrap`` package this process runs (site-packages or src/).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_argv(code: str) -> list[str]:
    """A child interpreter running ``code`` isolated from the folder it starts in.

    ``-I``: no ``PYTHONPATH``, no user site, no current folder on ``sys.path``; then keytrap's
    own package folder goes first, so the child imports this very keytrap and nothing a scanned
    repository holds.
    """
    boot = f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); {code}"
    return [sys.executable, "-I", "-c", boot]
