"""The ``zoo`` command line (click). Only this package prints for people; the core raises ZooError."""
