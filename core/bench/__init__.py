"""``zoo bench``: which family works best on my data, for my budget. Every named model (by default every
installed one that takes the data's shape) is trained under the same budget, or each with its own defaults
(:mod:`~zoo.bench.runs`, with the bench's stored settings in :mod:`~zoo.bench.settings`), scored
with one ``zoo eval`` setting (:mod:`~zoo.bench.scoring`), and set side by side in ``bench.json`` and
``index.html`` (:mod:`~zoo.bench.page`, tables in :mod:`~zoo.bench.table`). :func:`~zoo.bench.runs.bench` is
the one entry point, for the CLI and Python alike."""
