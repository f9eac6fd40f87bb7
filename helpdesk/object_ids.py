"""Primary keys given by clients (URLs, form fields, socket frames), checked in one place."""

from __future__ import annotations

# PostgreSQL bigint: a larger number would make the query itself fail instead of finding nothing.
PK_MAX = 2**63 - 1


def object_id_parse(value: object) -> int | None:
    """The id as an int, or None for anything that can't be one of our primary keys.

    `<thing>_access` functions turn None into the same not-found as a missing row.
    """
    if isinstance(value, bool):
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number <= PK_MAX else None
