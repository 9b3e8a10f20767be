"""A synthetic corpus in the raw KEMDy19 / KEMDy20 layout, for the demo and the tests.

Entry point: `feature_extractor.synthetic.generator.generate_corpus(out_dir, preset, dataset, seed)`
(CLI: kemdy-synthetic-corpus). The process and its knobs: docs/synthetic_corpus.md.
Modules, in the order the generator uses them: presets -> plan (dynamics, raters, timeline,
sentences + markup, voices, physiology baselines) -> layout_kemdy19 / layout_kemdy20 (rendering
with audio, signal_files with physiology and csv_rows). statistics and probe check a corpus;
calibration fits the dynamics knobs; reference holds the real corpora's figures."""
