"""Notices to reporters and departments: typed template values, key maps and their checks."""
