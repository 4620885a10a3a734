"""``hf://owner/name[@revision]``: model folders on the Hugging Face Hub, through ``huggingface_hub`` (the optional
extra ``zoo-core[hub]``).

Its token (``HF_TOKEN``, ``hf auth login``), cache (``HF_HUB_CACHE``, ``HF_HOME``) and offline mode
(``HF_HUB_OFFLINE=1``) work as that library defines them: zoo passes no token and stores no credentials. Only
the files zoo writes into a model folder are downloaded or uploaded (:data:`zoo.store.model_folder.FILES`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from zoo.errors import CheckpointError, ZooError
from zoo.store.model_folder import FILES
from zoo.store.regular_files import is_regular

SCHEME = "hf://"
INSTALL = "pip install 'zoo-core[hub]'"
NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
REPO_ID = re.compile(f"{NAME}/{NAME}")
REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")


def is_hub_address(source) -> bool:
    """Whether ``source`` names a model on the Hub: ``hf://owner/name`` (or ``hf:/owner/name``, what a path type
    makes of it)."""
    return isinstance(source, (str, Path)) and str(source).startswith("hf:/")


def check_repo_id(repo_id: str, what: str = "repository") -> str:
    if not REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise ZooError(f"{what} {repo_id!r} is not owner/name (letters, digits, '-', '_', '.')")
    return repo_id


def parse(source) -> tuple[str, str | None]:
    """(repo id, revision or None) of ``hf://owner/name[@revision]``."""
    text = str(source)
    rest = text[len(SCHEME):] if text.startswith(SCHEME) else text[len("hf:/"):]
    repo_id, at, revision = rest.rstrip("/").partition("@")
    if not REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise CheckpointError(f"{text}: not hf://owner/name[@revision]")
    if at and not (REVISION.fullmatch(revision) and ".." not in revision):
        raise CheckpointError(f"{text}: {revision!r} is not a revision (a branch, tag or commit)")
    return repo_id, revision or None


def library():
    """``huggingface_hub``, or a one-line ZooError saying how to install it."""
    try:
        import huggingface_hub
        import huggingface_hub.constants  # noqa: F401 -- its settings (offline mode), read from the environment
    except ImportError:
        raise ZooError(f"the Hugging Face Hub needs huggingface_hub: {INSTALL}") from None
    return huggingface_hub


def _explain(exc: BaseException, hub) -> str:
    """One line for what huggingface_hub raised."""
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if "RevisionNotFoundError" in kinds:
        return "no such revision on the Hub"
    if "GatedRepoError" in kinds:
        return "a gated repository: accept its conditions on the Hub, then log in (hf auth login, or HF_TOKEN)"
    if "RepositoryNotFoundError" in kinds:
        return "no such model repository on the Hub (a private one needs a login: hf auth login, or HF_TOKEN)"
    if "LocalEntryNotFoundError" in kinds or "OfflineModeIsEnabled" in kinds:
        if getattr(getattr(hub, "constants", None), "HF_HUB_OFFLINE", False):
            return "not in the Hugging Face cache, and HF_HUB_OFFLINE is set"
        return "could not reach the Hub, and it is not in the Hugging Face cache"
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    if kinds & {"ConnectError", "ConnectionError", "ConnectTimeout", "TimeoutException", "Timeout"}:
        where = getattr(getattr(hub, "constants", None), "ENDPOINT", "the Hub")
        return f"could not reach {where} ({type(exc).__name__}: {first}); check the network, or HF_ENDPOINT"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def download(source) -> Path:
    """The local folder of the model at ``source`` (hf://...): the library's cached snapshot, with zoo's files
    fetched first unless HF_HUB_OFFLINE is set."""
    from zoo.version import __version__

    repo_id, revision = parse(source)
    hub = library()
    try:
        folder = hub.snapshot_download(repo_id, revision=revision, allow_patterns=list(FILES),
                                       library_name="zoo", library_version=__version__)
    except Exception as exc:  # whatever the library or the network says: one line
        raise CheckpointError(f"{SCHEME}{repo_id}{'@' + revision if revision else ''}: {_explain(exc, hub)}") from None
    _check_inside_cache(Path(folder), f"{SCHEME}{repo_id}{'@' + revision if revision else ''}")
    return Path(folder)


def _check_inside_cache(folder: Path, address: str) -> None:
    """Each of zoo's files in a cached snapshot must be a regular file inside the cache's folder of that repository
    (its blobs): a link out of it (to a file elsewhere, /dev/zero, a named pipe) is no download, and is refused."""
    repository = folder.resolve().parents[1]  # models--owner--name/snapshots/<commit>
    for name in FILES:
        path = folder / name
        if not os.path.lexists(path):
            continue
        target = Path(os.path.realpath(path))
        if repository not in target.parents or not is_regular(target):
            raise CheckpointError(f"{address}: the cached {name} is a link to {target}, outside the Hugging Face cache "
                                  f"of the model, or no regular file; delete {repository} and download it again")


def upload(files: dict[str, Path | bytes], repo_id: str, *, private: bool, message: str) -> str:
    """Create ``repo_id`` (a model repository; private if asked, an existing one keeps its visibility) and commit
    ``files`` (name in the repository -> a path or the bytes) in one commit; returns the repository's URL."""
    from zoo.version import __version__

    hub = library()
    api = hub.HfApi(library_name="zoo", library_version=__version__)
    operations = [hub.CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(data) if isinstance(data, Path) else data)
                  for name, data in files.items()]
    try:
        url = api.create_repo(repo_id, repo_type="model", private=True if private else None, exist_ok=True)
        api.create_commit(repo_id, operations=operations, commit_message=message, repo_type="model")
    except Exception as exc:
        raise ZooError(f"zoo push {repo_id}: {_explain(exc, hub)}") from None
    return str(url)


__all__ = ["SCHEME", "INSTALL", "is_hub_address", "parse", "check_repo_id", "library", "download", "upload"]
