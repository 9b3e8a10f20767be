"""Stages 1 and 2: corpus readers, the audio-text feature extractor, per-utterance features."""

from erc_core.environment import offline_by_default

# Python imports this package before any of its modules, so a command started as
# `python -m feature_extractor...` or as a console script has comet-ml's offline settings in place
# before comet_ml, transformers or Lightning are imported (comet reads them at import time).
offline_by_default()
