"""Stage 3: contextual GNN over conversations (light dependencies only: torch, torch_geometric,
numpy, scikit-learn). Never imports transformers or the audio stack."""

from erc_core.environment import offline_by_default

# Python imports this package before any of its modules, so a command started as
# `kemdy-stage3-train` or as a console script has comet-ml's offline settings in place before
# anything imports comet_ml (which reads them at import time).
offline_by_default()
