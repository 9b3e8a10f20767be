"""Stage 3: contextual GNN over conversations (light dependencies only: torch, torch_geometric,
numpy, scikit-learn). Never imports transformers or the audio stack."""
