"""The officers' console (issue #4): the queue of initiatives with search and filters, the
detail of one, duplicates flagged, paper imports from XLSX, progress against the targets."""
