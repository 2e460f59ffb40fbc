"""segur-bench.yaml: defaults, file, environment, errors with file:line, init."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.config import ConfigError, load_config

runner = CliRunner()


def test_init_writes_a_commented_configuration_that_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init"]).exit_code == 0
    text = (tmp_path / "segur-bench.yaml").read_text(encoding="utf-8")
    assert "# segur-bench configuration" in text and "hook_url" in text
    config = load_config()
    assert config.candidate.kind == "reference" and config.profile == "medecin-ville"
    assert runner.invoke(app, ["init"]).exit_code == 2  # no silent overwrite


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text("candidate:\n  kind: http-hook\n  hook_url: http://a\nprofile: officine\n", encoding="utf-8")
    monkeypatch.setenv("SEGUR_BENCH_HOOK_URL", "http://b")
    config = load_config(path)
    assert (config.candidate.kind, config.candidate.hook_url, config.profile) == ("http-hook", "http://b", "officine")


def test_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text("profile: officine\ncandidate:\n  kind: telepathy\n  colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(p.startswith(f"{path}:3: candidate.kind") for p in caught.value.problems)
    assert f"{path}:4: candidate.colour : clé inconnue" in caught.value.problems


def test_run_reads_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "segur-bench.yaml").write_text("profile: officine\nout: mes-campagnes\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--scenario", "INS-SC-05"])
    assert result.exit_code == 0, result.output
    assert "Officine" in result.stdout and list((tmp_path / "mes-campagnes").glob("*/report.html"))


def test_simulator_ports_are_named_by_the_domains(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text("simulators:\n  insi_port: 8443\n  ports:\n    dmp: 8444\n", encoding="utf-8")
    assert load_config(path).simulators.ports == {"insi": 8443, "dmp": 8444}  # insi_port: the earlier spelling
    path.write_text("simulators:\n  ports:\n    dmpp: 8444\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "simulateur(s) inconnu(s) dmpp" in caught.value.problems[0]
    path.write_text("simulators:\n  ports:\n    dmp: 70000\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


def test_init_lists_a_port_per_declared_simulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init"]).exit_code == 0
    mss = (
        "mss_smtp",
        "mss_smtps",
        "mss_imap",
        "mss_imaps",
        "mss_smtp_untrusted",
        "mss_imap_untrusted",
        "mss_smtp_weak",
    )
    expected = {"insi": 0, "insi_cps": 0, "dmp": 0, "psc": 0, **dict.fromkeys(mss, 0)}
    assert load_config().simulators.ports == expected


def test_serve_refuses_an_unknown_or_malformed_port() -> None:
    for value in ("dmpp=8444", "insi", "insi=99999"):
        result = runner.invoke(app, ["serve", "--port", value])
        assert result.exit_code == 2, (value, result.output)


def test_strict_tls_names_a_domain_that_publishes_a_tls_profile(tmp_path: Path) -> None:
    path = tmp_path / "segur-bench.yaml"
    path.write_text("simulators:\n  strict_tls: [dmp]\n")
    assert load_config(path).simulators.strict_tls == ["dmp"]
    path.write_text("simulators:\n  strict_tls: [insi]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "strict_tls : insi (possibles : dmp)" in str(caught.value)
