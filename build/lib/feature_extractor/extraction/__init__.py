"""Stage 2 and prediction: run a stage-1 export over utterances (an index, or a conversation
folder) into the conversation pickle, and predict emotions with a stage-3 checkpoint."""
