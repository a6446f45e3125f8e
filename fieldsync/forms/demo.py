"""Demo answers: the fitness form filled for everyone who came to a monitoring session.

Plausible numbers (seeded), so the form's page has a table and charts to show.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from fieldsync.forms import submissions
from fieldsync.store import Store


def fitness_answers(rng: random.Random, person: dict, measured_on: str) -> dict:
    senior = (person.get("birth_year") or 1970) <= int(measured_on[:4]) - 60
    male = person.get("gender") == "male"
    height = rng.gauss(170 if male else 158, 6)
    answers = {
        "measured_at": measured_on, "age_group": "senior" if senior else "adult",
        "height_cm": round(height, 1), "weight_kg": round(rng.gauss(height - 100 + 5, 8), 1),
        "vital_capacity_ml": max(800, int(rng.gauss(3200 if male else 2300, 450) - (600 if senior else 0))),
        "grip_strength_kg": round(max(8, rng.gauss(38 if male else 25, 6) - (6 if senior else 0)), 1),
        "sit_and_reach_cm": round(rng.gauss(6 if male else 10, 7), 1),
        "resting_heart_rate": int(rng.gauss(74, 8)),
        "chronic_condition": rng.random() < 0.3,
    }
    if senior:
        answers["one_leg_stand_s"] = round(abs(rng.gauss(12, 6)), 1)
    else:
        answers["sit_ups"] = int(abs(rng.gauss(25, 8)))
    if answers["chronic_condition"]:
        answers["conditions"] = rng.sample(["hypertension", "diabetes", "heart", "joint"], rng.randint(1, 2))
    return answers


def fill_fitness(store: Store, session: dict, *, seed: int = 2025, ids: Callable[[], str] | None = None) -> int:
    """Submit the fitness form for each person checked in at the session; returns how many.
    ids, when given, names each submission (the demo's ids, the same at the hub and the town)."""
    rng = random.Random(seed)
    came = store.query("SELECT DISTINCT p.id, p.gender, p.birth_year FROM checkins c JOIN people p"
                       " ON p.id = c.person_id WHERE c.session_id = ? ORDER BY p.id", [session["id"]])
    for person in came:
        submissions.submit(store, "fitness_monitoring", session["id"], person["id"],
                           fitness_answers(rng, person, session["starts_at"][:10]),
                           ids() if ids else None, actor="demo")
    return len(came)
