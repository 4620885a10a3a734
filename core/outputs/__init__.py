"""What zoo shows: images and sample grids (``images``), plots (``plots``), the run's report.html (``report``), the
evaluation table (``figures``), runs side by side (``comparison``), a model folder's card (``model_card``) and
walks through latent space (``latent_walk``)."""
