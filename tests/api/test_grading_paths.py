"""Grading paths the first tests left out: setGradingModel, an approved level application,
applyDueLevelChanges."""

from __future__ import annotations

from tests.api.conftest import GraphQLClient

MODEL = "{ gradingModel { dimensions { dimension weight breakpoints { raw score } } thresholds { tier minScore } } }"
SET = """mutation($m: GradingModelInput!) { setGradingModel(input: $m) {
  model { thresholds { tier minScore } } errors { code } } }"""


async def test_a_lenient_model_makes_an_application_approvable(client: GraphQLClient) -> None:
    op = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
    )
    admin = op["data"]["operatorLogin"]["accessToken"]
    model = (await client.execute(MODEL, token=admin))["data"]["gradingModel"]
    bad = {"dimensions": model["dimensions"], "thresholds": [{"tier": "STANDARD", "minScore": "5"}]}
    assert (await client.execute(SET, {"m": bad}, token=admin))["data"]["setGradingModel"]["errors"] == [
        {"code": "BAD_THRESHOLDS"}
    ]
    lenient = [{"tier": t, "minScore": s} for t, s in (("STANDARD", "0"), ("SILVER", "0.001"), ("GOLD", "0.002"),
                                                        ("PLATINUM", "0.003"))]  # fmt: skip
    saved = await client.execute(SET, {"m": {"dimensions": model["dimensions"], "thresholds": lenient}}, token=admin)
    assert saved["data"]["setGradingModel"]["errors"] == [], saved
    assert [t["tier"] for t in saved["data"]["setGradingModel"]["model"]["thresholds"]][-1] == "PLATINUM"
    assert (await client.execute("mutation { runGrading { clients } }", token=admin))["data"]["runGrading"]
    token = await client.login("std001")
    client.token = None
    applied = await client.execute(
        'mutation { applyForLevel(tier: "PLATINUM") { application { id } errors { code } } }', token=token
    )
    application = applied["data"]["applyForLevel"]["application"]["id"]
    decided = await client.execute(
        "mutation($a: ID!) { decideLevelApplication(applicationId: $a, approve: true) { ok errors { code } } }",
        {"a": application},
        token=admin,
    )
    assert decided["data"]["decideLevelApplication"] == {"ok": True, "errors": []}, decided
    me = await client.execute("{ me { tier { code } } }", token=token)
    assert me["data"]["me"]["tier"]["code"] == "PLATINUM"
    due = await client.execute("mutation { applyDueLevelChanges }", token=admin)
    assert isinstance(due["data"]["applyDueLevelChanges"], int)
