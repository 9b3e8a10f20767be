"""Infrastructure shared by every stage; imports no stage: class order, files, configs, metrics,
plots, tracking, device choice, provenance and the command-line conventions."""
