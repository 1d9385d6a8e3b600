"""Getting villages' addresses in: import from a spreadsheet or OpenDK, discover candidates."""
