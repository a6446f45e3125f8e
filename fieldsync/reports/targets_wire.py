"""The sync entity `targets`: a unit's yearly targets as a parent hub publishes them (decision 0290).

One record per unit (its key is the unit's code, so its pull scope is the unit's, as a place's):
every year and figure set for it. A child hub whose area holds the unit takes the record whole
as the parent's rows (`by_parent`): figures the parent no longer sends are gone, a figure it
sends replaces the child's own. The child passes the record on to its laptops, which keep the
rows of their own area too. Published only: nothing sends targets upward.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from fieldsync.records import place_import
from fieldsync.reports import targets
from fieldsync.store.clock import utc_now
from fieldsync.sync import chain, entities

PARENT = "parent hub"   # the actor of a pulled target


def _figures(value) -> None:
    for figure, number in value.items():
        if figure not in targets.PLAN or not 0 <= number <= targets.LIMITS[figure]:
            raise validate.ValidationError(f"{figure}: {number} is no target.")


class TargetsWire(Schema):
    class Meta:
        unknown = RAISE

    unit = fields.String(required=True, validate=validate.Regexp(r"^\d{6}(\d{6})?$"))
    years = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^\d{4}$")),
                        values=fields.Dict(keys=fields.String(), values=fields.Float(), validate=_figures),
                        required=True)


def read(db, unit: str) -> dict:
    """Every figure set for the unit here (the hub's own and its parent's): empty when none is."""
    years: dict[str, dict] = {}
    for year, figure, value in db.execute("SELECT year, figure, value FROM targets WHERE unit = ?", [unit]):
        years.setdefault(str(year), {})[figure] = value
    return {"unit": unit, "years": years}


def apply(db, record: dict) -> None:
    """Take the parent's figures for a unit of this hub's area; the rest it sent earlier are gone."""
    unit, own = record["unit"], chain.own_unit(db)
    if own is None or not place_import.within(unit, own):
        return   # a unit above this hub's: it reports against its own unit's targets
    db.execute("DELETE FROM targets WHERE unit = ? AND by_parent = 1", [unit])
    now = utc_now()
    for year, figures in record["years"].items():
        for figure, value in figures.items():
            db.execute("INSERT OR REPLACE INTO targets (unit, year, figure, value, set_at, actor, by_parent)"
                       " VALUES (?, ?, ?, ?, ?, ?, 1)", [unit, int(year), figure, value, now, PARENT])


ENTITIES = [
    entities.Entity("targets", entities.PUBLISHED, TargetsWire, pushed=False, scope="place",
        key="unit", read=read, apply=apply),
]
