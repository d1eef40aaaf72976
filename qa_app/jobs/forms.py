"""The job list's filters, read from the query string."""

from __future__ import annotations

from wtforms import SelectField

from qa_app.forms import Form, choices
from qa_app.jobs.models import JobState

STATE_LABELS = {
    JobState.QUEUED: "Queued",
    JobState.RUNNING: "Running",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
}
ANY = ""


class JobFilterForm(Form):
    class Meta:
        csrf = False

    state = SelectField(
        "State",
        choices=choices([(ANY, "Any"), *((s.value, label) for s, label in STATE_LABELS.items())]),
        default=ANY,
    )
    kind = SelectField("Kind", default=ANY)
