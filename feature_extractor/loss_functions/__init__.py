"""Building blocks of the stage-1 loss; `feature_extractor.losses` is the public entry point."""
