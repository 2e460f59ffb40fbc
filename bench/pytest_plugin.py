"""pytest plugin: ``pytest --segur-candidate=reference`` runs the bench's scenarios as test items.

One item per scenario of the profile, marked with its requirements (``@pytest.mark.requirement("INS-001")``).
With allure-pytest installed, each item carries Allure labels (epic = domain, feature = requirement, story =
scenario), one Allure step per scenario step, and the evidence files as attachments. At the end of the session the
usual reports are written to the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.privacy import mask_identifiers
from bench.runner.results import ScenarioResult

DOMAIN_LABELS = {"INS": "INS", "DMP": "DMP", "MSS": "MSSanté", "CDA": "CDA (CI-SIS)", "SEC": "Sécurité"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("segur-bench", "Ségur wave-2 conformance scenarios")
    group.addoption(
        "--segur-candidate",
        default=None,
        help="run the bench's scenarios against this candidate: reference, http-hook or command",
    )
    group.addoption("--segur-config", default=None, help="segur-bench.yaml to read (default: ./segur-bench.yaml)")
    group.addoption("--segur-profile", default=None, help="referencing profile (default from the configuration)")
    group.addoption("--segur-defect", action="append", default=[], help="reference candidate defect (repeatable)")
    group.addoption("--segur-hook-url", default=None, help="http-hook: base URL of the hook service")
    group.addoption("--segur-scenario", action="append", default=[], help="only these scenarios (repeatable)")
    group.addoption("--segur-out", default=None, help="folder for the run directory (default: runs)")
    group.addoption("--segur-pack", default=None, help="CI-SIS validation pack for the CDA checks")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): the Ségur requirement a segur-bench scenario verifies")
    if config.getoption("--segur-candidate"):
        config.pluginmanager.register(SegurSession(config), "segur-bench-session")


class SegurSession:
    """Holds the campaign of one pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        from bench.candidates.factory import make_adapter
        from bench.catalogue.loader import load_catalogue
        from bench.config import load_config
        from bench.paths import content_root, state_dir
        from bench.runner.engine import Campaign, CampaignOptions, new_run_id
        from bench.validation.packs import find_packs
        from simulators.common.pki import ensure_pki

        option = config.getoption
        settings = load_config(Path(option("--segur-config")) if option("--segur-config") else None)
        settings.candidate.kind = option("--segur-candidate")
        settings.candidate.defects = list(option("--segur-defect")) or settings.candidate.defects
        if option("--segur-hook-url"):
            settings.candidate.hook_url = option("--segur-hook-url")
        profile = option("--segur-profile") or settings.profile
        pack_path = option("--segur-pack") or settings.pack
        packs = find_packs([Path(pack_path)] if pack_path else [])
        self.catalogue = load_catalogue(content_root())
        run_dir = Path(option("--segur-out") or settings.out) / new_run_id()
        options = CampaignOptions(
            profile=profile,
            scenario_ids=list(option("--segur-scenario")),
            defects=settings.candidate.defects,
            timeout_factor=settings.timeout_factor,
            pack=packs[0] if packs else None,
            host=settings.simulators.host,
            ports=dict(settings.simulators.ports),
        )
        self.campaign = Campaign(
            self.catalogue, make_adapter(settings.candidate), options, run_dir, ensure_pki(state_dir() / "pki")
        )
        self.lang = settings.lang
        self.opened = False

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        for scenario in self.campaign.scenarios():
            item = ScenarioItem.from_parent(session, name=scenario.id, scenario_id=scenario.id, owner=self)
            for requirement in scenario.requirements:
                item.add_marker(pytest.mark.requirement(requirement))
            items.append(item)

    def run(self, scenario_id: str) -> ScenarioResult:
        if not self.opened:
            self.campaign.open()
            self.opened = True
        return self.campaign.run_scenario(self.campaign.catalogue.scenarios[scenario_id])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.opened:
            return
        from reports.render import write_reports

        self.campaign.close()
        paths = write_reports(self.campaign.result(), self.campaign.run_dir, self.lang)
        session.config.stash[REPORT_KEY] = str(paths["html"])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        report = terminalreporter.config.stash.get(REPORT_KEY, None)
        if report:
            terminalreporter.write_line(f"segur-bench : rapport {report}")


REPORT_KEY = pytest.StashKey[str]()


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario_id: str, owner: SegurSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario_id = scenario_id
        self.owner = owner

    def runtest(self) -> None:
        scenario = self.owner.campaign.catalogue.scenarios[self.scenario_id]
        result = self.owner.run(self.scenario_id)
        _allure(scenario.title, scenario.requirements, result, self.owner.campaign.run_dir)
        bad = [f for step in result.steps for f in step.findings if f.outcome in ("fail", "error")]
        bad_steps = [s for s in result.steps if s.outcome == "error" and not s.findings]
        if result.outcome in ("fail", "error"):
            lines = [f"[{f.id}] {','.join(f.requirements)} {f.outcome}: {f.message}" for f in bad]
            lines += [f"[{s.id}] erreur du banc : {s.message}" for s in bad_steps]
            # Pytest output ends up in CI logs: no identifier in clear (the report keeps the full text).
            raise ScenarioFailure(mask_identifiers("\n".join(lines)) or result.outcome)
        if result.outcome in ("skip", "omit"):
            pytest.skip(f"{self.scenario_id} : rien n'a pu être jugé")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int, str]:
        location = self.owner.catalogue.locations.get(self.scenario_id)
        return (
            str(location.path) if location else "segur-bench",
            location.line if location else 0,
            f"segur-bench {self.scenario_id}",
        )


class ScenarioFailure(AssertionError):
    """A scenario found non-conformities (or could not be judged)."""


def _allure(title: str, requirements: list[str], result: ScenarioResult, run_dir: Path) -> None:
    try:
        import allure
    except ImportError:
        return
    domains = sorted({DOMAIN_LABELS.get(r.split("-")[0], r.split("-")[0]) for r in requirements})
    for domain in domains:
        allure.dynamic.epic(domain)
    allure.dynamic.feature(*requirements)
    allure.dynamic.story(f"{result.id} {title}")
    allure.dynamic.title(f"{result.id} — {title}")
    for step in result.steps:
        with allure.step(f"{step.id} : {step.title} [{step.outcome}]"):
            if step.findings:
                text = "\n".join(
                    f"{f.outcome} {','.join(f.requirements)} {f.check_id} : {f.message}" for f in step.findings
                )
                allure.attach(text, name="constats", attachment_type=allure.attachment_type.TEXT)
            for exchange_id in step.exchanges:
                for evidence in sorted((run_dir / "exchanges").glob(f"{exchange_id}.*")):
                    allure.attach.file(str(evidence), name=evidence.name)
