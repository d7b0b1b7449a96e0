"""Locations: the list, adding one, and which location a request works at.

A request works at a location: the one it names (`?location=ID`; unknown: 404
`not_found`), else the signed-in browser's (chosen at sign-in), else the user's home
location, else the clinic's first one (`ledger.default_location`).
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos.domain.errors import NotFound
from pos.domain.locations import LocationExists, clean_location_name, location_code
from pos.models import Location, User
from pos.services import audit
from pos.services.ledger import default_location
from pos.services.transaction import write_transaction


def list_locations(session: Session) -> list[Location]:
    """Every location, the clinic's first one first."""
    default_location(session)
    return list(session.scalars(select(Location).order_by(Location.id)))


def several(session: Session) -> bool:
    """Whether the clinic has more than one location (the pages then show which)."""
    return (session.scalar(select(func.count()).select_from(Location)) or 0) > 1


def get_location(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound(f"No location {location_id}.", {"location": location_id})
    return location


def create_location(name: str, user_id: int | None) -> Location:
    cleaned = clean_location_name(name)
    try:
        with write_transaction() as session:
            default_location(session)  # the clinic's first location keeps the lowest id
            taken = session.scalar(select(Location.id).where(
                func.lower(Location.name) == cleaned.lower()))
            if taken is not None:
                raise LocationExists(f"There is already a location named {cleaned!r}.",
                                     {"name": cleaned, "id": taken})
            location = Location(code=location_code(cleaned), name=cleaned)
            session.add(location)
            session.flush()
            audit.record(session, user_id, "location.create", "location", location.id,
                         name=cleaned)
    except IntegrityError as error:  # the same name added at the same moment
        raise LocationExists(f"There is already a location named {cleaned!r}.",
                             {"name": cleaned}) from error
    return location


def working_location(session: Session, *, asked: int | None = None,
                     session_location_id: int | None = None,
                     user: User | None = None) -> Location:
    """Where this request works (see the module's docstring)."""
    if asked is not None:
        return get_location(session, asked)
    for candidate in (session_location_id, user.home_location_id if user else None):
        if candidate is not None:
            found = session.get(Location, candidate)
            if found is not None:
                return found
    return default_location(session)


def assign_home(session: Session, user: User, location_id: int, actor_id: int | None) -> None:
    """Set the user's home location, in the caller's transaction (unknown: 404)."""
    get_location(session, location_id)
    if user.home_location_id != location_id:
        user.home_location_id = location_id
        audit.record(session, actor_id, "user.home_location", "user", user.id,
                     location_id=location_id)


def set_home_location(user_id: int, location_id: int, actor_id: int | None) -> None:
    with write_transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user {user_id}.", {"user": user_id})
        assign_home(session, user, location_id, actor_id)
