"""The analyses, siblings that each take a Spec and return a record: `explanation` (every
path, summed and verified), `toppaths` (the K largest), `backprop` (reverse and forward mode
as tables), `lengths` (paths by length)."""
