"""What zoo shows: images and sample grids (``images``), plots (``plots``), the run's report.html (``report``) and
walks through latent space (``latent_walk``)."""
