"""The report wizard's steps: the conversation states a draft can be in.

The values are what ``conversations.state`` holds, so a draft saved before the steps were declared here
("report:location" …) loads as the same step. An unknown value under ``report:`` (a step a newer or older
version had) reads as no step, and the wizard resumes at the first missing answer.
"""

from __future__ import annotations

from enum import StrEnum

AREA = "report"  # ``Conversation.in_state(AREA)``: any step of the wizard
PREFIX = f"{AREA}:"
ANY_STEP = f"{PREFIX}*"  # the router's pattern for every step
STORED_LIKE = f"{PREFIX}%"  # the SQL pattern for every stored step


class Step(StrEnum):
    CATEGORY = "report:category"
    CATEGORY_CONFIRM = "report:category_confirm"
    DESCRIPTION = "report:description"
    LOCATION = "report:location"
    OBJECT = "report:object"
    COUNTY = "report:county"
    PHOTOS = "report:photos"
    CONTACT = "report:contact"
    CONTACT_DETAILS = "report:contact_details"
    EDIT = "report:edit"
    CONFIRM = "report:confirm"

    @property
    def key(self) -> str:
        """The step's name without the area ("location"), as texts.REPORT_STEP_NAMES keys it."""
        return self.value.removeprefix(PREFIX)

    @classmethod
    def of(cls, state: str | None) -> Step | None:
        """The step a stored state names, or None (no state, another area's, or an unknown step)."""
        try:
            return cls(state or "")
        except ValueError:
            return None


# What 修改 offers to change, in this order.
EDIT_STEPS: tuple[Step, ...] = (Step.CATEGORY, Step.DESCRIPTION, Step.LOCATION, Step.PHOTOS, Step.CONTACT)
