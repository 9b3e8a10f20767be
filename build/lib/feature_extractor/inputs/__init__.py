"""Utterance inputs shared by stage 1 (training) and stage 2 (extraction): the index table, audio
reading, the dataset, length-bucketed batches, collation and the physiological vector."""
