"""Converters from foreign feature pickles to the conversation pickle (docs/stage3.md).

- `cogmen_tuple`: the COGMEN / DialogueRNN 9-tuple (IEMOCAP, MOSEI, MELD feature pickles).
- `kemdy_cogmen`: the KEMDy19 COGMEN pipeline's 10-element list (9-tuple + segment ids).

Both read through the restricted unpickler and return dialogues ready for write_conversations."""
