"""Who did what in a course: per learner and assignment, in a fixed number of queries.

`cells` works out each learner's state on each assignment; `table` builds the
progress page's table and its CSV from them. This package names their public
functions in one place, so callers keep writing `progress.progress_table(...)`."""

from coprod_study.courses.progress.cells import (  # noqa: F401
    CHIP_LABELS,
    DUE_SOON,
    STATUS_LABELS,
    TIMING_LABELS,
    Cell,
    assignments_where,
    compute_cells,
    my_cells,
    my_due_dates,
)
from coprod_study.courses.progress.table import (  # noqa: F401
    CSV_COLUMNS,
    FORMULA_STARTS,
    SORT_KEYS,
    AssignmentTotal,
    LearnerRow,
    ProgressTable,
    progress_csv,
    progress_table,
    spreadsheet_safe,
)
