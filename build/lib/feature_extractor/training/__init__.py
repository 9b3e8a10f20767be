"""Stage 1: fine-tune the audio-text feature extractor (Lightning module, data module, callbacks,
losses, config, entry point)."""
