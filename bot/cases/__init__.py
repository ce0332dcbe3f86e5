"""Case handling over time: the acceptance and completion clocks of a report and their extensions."""
