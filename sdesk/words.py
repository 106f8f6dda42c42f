"""The fixed words of sdesk, in a module with no imports.

Command-line options need them to declare their choices; keeping them here
lets a command's start-up (and `--help`) skip the model, YAML and the rules.
"""

IMPACTS = ("company", "department", "individual")
URGENCIES = ("high", "medium", "low")
FORMATS = ("table", "json", "csv")  # every listing prints as any of these
# The version of the names and units JSON and CSV carry (README, "Data for scripts"): a field renamed or
# removed, or its unit changed, makes a new version; a field added does not.
DATA_CONTRACT = 1
CHECK_FORMATS = (*FORMATS, "github")  # checks also print GitHub Actions annotations
SORT_KEYS = ("created", "updated", "priority")  # orders of `sdesk list`
SCORES = (1, 5)  # a satisfaction score is a whole number in this range
ANNOUNCEMENT_KINDS = ("maintenance", "outage")
ALL_CUSTOMERS = "all"  # an announcement for every customer (of its service)
SCHEMA_KINDS = ("rules", "ticket", "announcement")  # the files `sdesk schema` describes
