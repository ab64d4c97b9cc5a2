"""Reading registry files: sources, parsing, the data dictionary, validation and privacy checks."""
