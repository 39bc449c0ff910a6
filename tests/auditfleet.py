"""A fleet of small scripted repositories with planted keys, for the audit tests and bench."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitrepo import GitRepo, env_file
from helpers import random_secret


@dataclass
class Fleet:
    root: Path
    repos: list[GitRepo] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)  # how each repository is named to the audit
    shared: tuple[str, str] = ("", "")  # the pair committed to three repositories
    planted: dict[str, set[int]] = field(default_factory=dict)  # secret -> indices of repositories
    deleted: set[str] = field(default_factory=set)  # secrets only in deleted history

    def secrets(self) -> list[str]:
        return list(self.planted)

    def repos_file(self) -> Path:
        path = self.root / "repos.txt"
        lines = ["# the fleet: paths and file:// URLs", ""]
        lines += [f"{e}  # repo {i}" if i % 5 == 0 else e for i, e in enumerate(self.entries)]
        path.write_text("\n".join(lines) + "\n")
        return path


def build(root: Path, count: int = 24, *, shared_in: tuple[int, ...] = (0, 1, 2),
          unique_in: tuple[int, ...] = (3, 4, 5, 6, 7, 8, 9, 10, 11), files: int = 3) -> Fleet:
    """``count`` repositories under ``root/repos``; even ones named by path, odd ones by
    ``file://`` URL. The shared pair: at HEAD in the first, deleted in the second, on a side
    branch in the third. Unique pairs in ``unique_in``; every other one of them deleted later."""
    fleet = Fleet(root)
    key, secret = random_secret(), random_secret()
    fleet.shared = (key, secret)
    for i in range(count):
        repo = GitRepo(root / "repos" / f"repo-{i:02d}")
        repo.commit("initial", {"README.md": f"# service {i}\n",
                                **{f"src/mod{j}.py": f"def f{j}():\n    return {i * 100 + j}\n" for j in range(files)}})
        if i in shared_in:
            where = shared_in.index(i)
            if where == 2:
                repo.git("checkout", "-q", "-b", "side")
            repo.commit("add binance config", {"deploy/binance.env": env_file(key, secret)})
            if where == 1:
                repo.commit("remove the keys", remove=("deploy/binance.env",))
            if where == 2:
                repo.git("checkout", "-q", "main")
            for s in (key, secret):
                fleet.planted.setdefault(s, set()).add(i)
        if i in unique_in:
            k, s = random_secret(), random_secret()
            repo.commit("trading bot", {"bot/settings.py": f'BINANCE_API_KEY = "{k}"\nBINANCE_API_SECRET = "{s}"\n'})
            repo.commit("more work", {"src/extra.py": "x = 1\n"})
            if unique_in.index(i) % 2 == 0:
                repo.commit("oops, remove the keys", remove=("bot/settings.py",))
                fleet.deleted.update((k, s))
            fleet.planted[k] = {i}
            fleet.planted[s] = {i}
        fleet.repos.append(repo)
        fleet.entries.append(str(repo.path) if i % 2 == 0 else repo.path.as_uri())
    return fleet
