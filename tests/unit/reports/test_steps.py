"""The wizard's declared steps read the states stored before they were declared."""

from __future__ import annotations

import uuid
from datetime import timedelta

from bot.reports.steps import EDIT_STEPS, PREFIX, Step
from handlers.report_wizard import next_step
from storage.models import Conversation
from tests.conftest import RunningService

# The states drafts were stored under before the steps became an enum; rows holding them still exist.
STORED = (
    "report:category",
    "report:category_confirm",
    "report:description",
    "report:location",
    "report:object",
    "report:county",
    "report:photos",
    "report:contact",
    "report:contact_details",
    "report:edit",
    "report:confirm",
)


def test_every_stored_state_reads_as_its_step() -> None:
    assert [Step.of(state) for state in STORED] == list(Step)
    assert all(step.value.startswith(PREFIX) and len(step.value) <= 64 for step in Step)  # the column's width
    assert [step.key for step in EDIT_STEPS] == ["category", "description", "location", "photos", "contact"]


def test_states_that_are_no_step() -> None:
    assert Step.of(None) is None
    assert Step.of("") is None
    assert Step.of("report:signature") is None  # a step another version had
    assert Step.of("kb:followup") is None


def test_next_step_is_the_first_missing_answer() -> None:
    assert next_step({}) is Step.CATEGORY
    draft = {"category": "discharge", "description": "工厂夜里往河里排放黄色的废水"}
    assert next_step(draft) is Step.LOCATION
    draft |= {"address": "盐湖区解放南路88号", "county_state": "ok", "photos_done": True}
    assert next_step(draft) is Step.CONTACT
    assert next_step(draft | {"contact": {"mode": "anonymous"}}) is Step.CONFIRM


async def test_a_draft_stored_under_the_old_state_string_carries_on(service: RunningService) -> None:
    services = service.services
    now = services.now()
    async with services.database.session() as session:
        session.add(
            Conversation(
                openid="old-draft",
                state="report:location",
                data={
                    "draft_id": uuid.uuid4().hex,
                    "category": "discharge",
                    "description": "某化工厂夜间通过暗管向河道偷排废水",
                },
                updated_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        await session.commit()
    reply = await service.wx.send_text("old-draft", "盐湖区解放南路88号化工厂后门")
    assert "盐湖区" in reply.content and "第4步" in reply.content
    async with services.database.session() as session:
        stored = await session.get(Conversation, "old-draft")
        assert stored is not None and stored.state == "report:photos"
        assert stored.data["address"] == "盐湖区解放南路88号化工厂后门"
