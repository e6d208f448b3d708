"""Repeat contacts from metadata: the same customer (`customer_id`) within N days.

What the customer says ("I called last week") is one signal and is extracted from the conversation; the
contact history is the other, and it does not depend on the customer mentioning it. A contact is a repeat
when the same customer had an earlier contact within `days` before it; it is followed by a repeat when
the customer comes back within `days` after it (the outcome that first-contact resolution should lower).
Only contacts with both a customer id and a date take part; within one date, contacts are ordered by
their full date text (a time of day, where given) and then by id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date as Date

from pydantic import BaseModel

from qa_pipeline.models import CallMetadata

DEFAULT_REPEAT_DAYS = 7


class ContactHistory(BaseModel):
    """One contact's place in its customer's history."""

    customer_id: str
    previous: str | None = None  # the customer's latest earlier contact within the window
    next: str | None = None  # the customer's first later contact within the window

    @property
    def is_repeat(self) -> bool:
        return self.previous is not None

    @property
    def repeated(self) -> bool:
        return self.next is not None


def day_of(text: str | None) -> Date | None:
    """The date of an ISO date or date-time text; None where there is none."""
    try:
        return Date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def contact_histories(
    metadata: Mapping[str, CallMetadata], days: int = DEFAULT_REPEAT_DAYS
) -> dict[str, ContactHistory]:
    """Per contact with a customer id and a readable date, its previous and next contact within `days`."""
    by_customer: dict[str, list[tuple[Date, str, str]]] = defaultdict(list)
    for call_id, meta in metadata.items():
        when = day_of(meta.date)
        if meta.customer_id and when is not None:
            by_customer[meta.customer_id].append((when, meta.date or "", call_id))
    found: dict[str, ContactHistory] = {}
    for customer, contacts in by_customer.items():
        contacts.sort()
        for index, (when, _, call_id) in enumerate(contacts):
            before = [c for d, _, c in contacts[:index] if (when - d).days <= days]
            after = [c for d, _, c in contacts[index + 1 :] if (d - when).days <= days]
            found[call_id] = ContactHistory(
                customer_id=customer,
                previous=before[-1] if before else None,
                next=after[0] if after else None,
            )
    return found
