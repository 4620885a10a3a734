"""Which files of an image folder are the dataset, and their classes (one subfolder per class, like
torchvision's ImageFolder; a folder without subfolders is one unlabelled set).

Class folders are numbered in name order. Two kinds are refused, each in one line naming it:

- an empty class folder: it would still take a class id, so a conditional model would learn, sample and be
  judged on a class with no images (skipping it instead would silently renumber every class after it);
- a class folder that is a link to the folder itself, to a folder above it, or to (a part of) another class:
  it would count the same images twice. Links to folders elsewhere (data kept on another disk) are followed.

Inside a class folder, subfolders are searched but linked subfolders are not followed (no loops).
"""

from __future__ import annotations

from pathlib import Path

from zoo.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def list_images(root: Path) -> tuple[list[Path], list[int], tuple[str, ...] | None]:
    """The image files of ``root``, their class indices, and the class names (None without subfolders)."""
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    _refuse_overlapping(root, subdirs)
    groups = subdirs or [root]
    files, labels = [], []
    for index, folder in enumerate(groups):
        found = [f for f in sorted(folder.rglob("*") if subdirs else folder.iterdir())
                 if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
        if subdirs and not found:
            raise DataError(f"{folder}: a class folder with no images; remove it or add images (it would still "
                            f"take class id {index}, a class the model never sees)")
        files += found
        labels += [index] * len(found)
    if not files:
        raise DataError(f"{root}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return files, labels, tuple(d.name for d in subdirs) if subdirs else None


def _refuse_overlapping(root: Path, subdirs: list[Path]) -> None:
    """Refuse a class folder (a link) that resolves to ``root``, above it, or into another class folder."""
    top = root.resolve()
    targets = {folder: folder.resolve() for folder in subdirs}
    owners: dict[Path, list[Path]] = {}
    for folder, target in targets.items():
        owners.setdefault(target, []).append(folder)
    for folder in (f for f in subdirs if f.is_symlink()):  # plain subfolders cannot overlap one another
        target = targets[folder]
        if target == top or target in top.parents:
            raise DataError(f"{folder}: a link to {target}, the data folder itself or a folder above it; every "
                            f"image would be counted again as this class. Remove the link")
        others = [f for f in owners[target] if f != folder]
        others += [f for parent in target.parents for f in owners.get(parent, [])]
        if not others:
            others = [f for f, t in targets.items() if target in t.parents]
        if others:
            raise DataError(f"{folder}: a link to {target}, which overlaps class folder {others[0].name}; their "
                            f"images would be counted twice. Remove the link")
