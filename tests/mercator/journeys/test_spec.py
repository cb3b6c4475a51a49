"""Journey files: the shipped ones load, and a wrong file fails naming the file, the key and the problem."""

from __future__ import annotations

import json

import pytest
import yaml
from mercator.activation.destination import ConfigError
from mercator.activation.runner import known_types
from mercator.config import REPO_ROOT
from mercator.journeys.__main__ import main
from mercator.journeys.spec import END, load_journey, load_journeys

SHIPPED = REPO_ROOT / "dbt_project" / "journeys"
VALID = {
    "name": "j", "entry": {"event": "order"},
    "steps": [{"id": "wait", "wait": {"days": 1}},
              {"id": "mail", "send": {"channel": "email", "destinations": [{"type": "outbox"}]}}],
}


def write(tmp_path, body: dict, name: str = "j"):
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_the_shipped_journeys_load_with_their_steps():
    journeys = {j.name: j for j in load_journeys(SHIPPED, known_types())}
    assert set(journeys) == {"welcome", "cart_abandonment", "winback", "post_purchase"}
    cart = journeys["cart_abandonment"]
    assert cart.entry.event == "begin_checkout" and cart.exit.purchased
    assert [s.kind for s in cart.steps] == ["wait", "send"] and cart.steps[0].wait.hours_total == 4
    winback = journeys["winback"]
    assert winback.entry.segment.values == ["light", "moderate", "severe"]
    sends = {s.id: winback.audience(s, known_types()) for s in winback.steps if s.kind == "send"}
    assert {s.name: s.channel for s in sends.values()} == {
        "winback.light_email": "email", "winback.moderate_email": "email", "winback.severe_sms": "sms"}
    assert all(spec.holdout_share == 0 and "journey_instance" in spec.fields for spec in sends.values())
    # light and moderate emails end the journey: no tier gets a second message
    assert winback.following(winback.index("light_email")) == winback.index(END) == len(winback.steps)


@pytest.mark.parametrize(("change", "expected"), [
    ({"entry": {"event": "order", "segment": {"column": "x", "values": ["a"]}}}, "exactly one of event or segment"),
    ({"entry": {"event": "page_view"}}, "entry.event"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"holdout_share": 1.5}, "holdout_share"),
    ({"reentry": {"policy": "cooldown"}}, "cooldown_days is needed"),
    ({"steps": [{"id": "s", "split": {"when": "true", "then": "nowhere", "else": "end"}},
                {"id": "mail", "send": {"channel": "email", "destinations": [{"type": "outbox"}]}}]},
     "target 'nowhere' is not a later step"),
    ({"steps": [{"id": "w", "wait": {"hours": 1}}]}, "at least one send step"),
    ({"steps": [{"id": "w", "wait": {"hours": 1}, "split": {"when": "1", "then": "end", "else": "end"}}]},
     "exactly one of wait, send or split"),
    ({"steps": [{"id": "mail", "send": {"channel": "email", "holdout_share": 0.5,
                                        "destinations": [{"type": "outbox"}]}}]}, "holdouts are the journey's"),
    ({"steps": [{"id": "mail", "send": {"channel": "email", "destinations": [{"type": "carrier_pigeon"}]}}]},
     "step mail: audience j.mail: meta.activation.destinations[0].type: unknown destination"),
])
def test_a_wrong_file_names_the_file_and_the_problem(tmp_path, change, expected):
    with pytest.raises(ConfigError) as error:
        load_journey(write(tmp_path, {**VALID, **change}), known_types())
    assert str(error.value).startswith("journey j.yml: ") and expected in str(error.value)


def test_the_name_must_match_the_file(tmp_path):
    with pytest.raises(ConfigError, match="must match the file name"):
        load_journey(write(tmp_path, VALID, name="other"), known_types())


def test_check_reports_each_file_and_fails_on_a_wrong_one(tmp_path, capsys):
    write(tmp_path, VALID)
    write(tmp_path, {**VALID, "name": "bad", "steps": []}, name="bad")
    assert main(["check", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("FAIL journey bad.yml: steps") and lines[1] == "ok   j.yml: 2 steps"
    assert main(["check", str(SHIPPED)]) == 0


def test_schema_is_json_schema_with_the_step_kinds(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"wait", "send", "split", "next"} <= set(schema["$defs"]["Step"]["properties"])
    assert "else" in schema["$defs"]["Split"]["properties"]
