"""``backproplab reproduce``, called as a function: every output checked against the saved models and runs."""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import json
import re

import numpy as np
import pytest
from matplotlib.image import imread

import backproplab as bp
from backproplab.cli import main
from backproplab.core.gradcheck import GradcheckResult
from backproplab.experiments.config import load_config, parse_toml
from backproplab.present.report import FIGURES

SEEDS = 24
ARGS = ["--runs", str(SEEDS), "--sweep-runs", "6", "--sweep-epochs", "200", "--seed", "3", "--quiet"]
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "report"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["reproduce", "--out", str(out), *ARGS])
    return code, out, stdout.getvalue(), stderr.getvalue()


def _csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _printed_table(stdout: str, title_start: str) -> list[list[str]]:
    """The cells of the printed table whose title starts with ``title_start``."""
    block = stdout.split(title_start, 1)[1].split("\n\n", 1)[0]
    lines = [line for line in block.splitlines()[1:] if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_exit_code_and_quiet(run) -> None:
    code, _, stdout, stderr = run
    assert code == 0
    assert stderr == ""  # --quiet
    assert "Table 1 - AND" in stdout and "report.md" in stdout


def test_every_file_is_written(run) -> None:
    _, out, _, _ = run
    record = json.loads((out / "run.json").read_text())
    for name in ("and", "or", "xor"):
        for f in ("config.toml", "history.csv", "model.npz"):
            assert f"{name}/{f}" in record["files"]
        for f in ("models.npz", "predictions.csv", "loss_band.csv"):
            assert f"seeds/{name}_{f}" in record["files"]
    for path, _ in FIGURES.values():
        assert path in record["files"]
    assert all((out / f).is_file() for f in record["files"])
    assert record["command"] == "backproplab reproduce --seed 3 --runs 24 --sweep-runs 6 --sweep-epochs 200"


def test_figures_are_valid_pngs(run) -> None:
    _, out, _, _ = run
    for path, _ in FIGURES.values():
        image = imread(out / path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300


def test_configs_are_the_shipped_ones_with_the_chosen_seed(run) -> None:
    _, out, _, _ = run
    for name in ("and", "or", "xor"):
        saved = parse_toml((out / name / "config.toml").read_text())
        assert saved == load_config(name).replace("training", seed=3)


def test_printed_tables_equal_the_saved_models_predictions(run) -> None:
    _, out, stdout, _ = run
    for number, name in enumerate(("and", "or", "xor"), start=1):
        p = bp.load(out / name / "model.npz").predict_proba(X)[:, 0]
        printed = _printed_table(stdout, f"Table {number} - {name.upper()}")
        assert [row[0] for row in printed] == ["0 0", "0 1", "1 0", "1 1"]
        assert [row[3] for row in printed] == [f"{v:.4f}" for v in p]
        assert [float(row[2]) for row in printed] == list(load_config(name).reference.predicted)
        saved = _csv(out / "tables" / f"table{number}_{name}.csv")
        np.testing.assert_array_equal([float(r["ours (seed 3)"]) for r in saved], p)  # full precision


def test_history_is_the_saved_models_training(run) -> None:
    _, out, _, _ = run
    config = load_config("xor")
    rows = _csv(out / "xor" / "history.csv")
    assert len(rows) == config.training.epochs
    X_, y = X, np.array([0, 1, 1, 0])
    net = bp.mlp([2, 8, 1], seed=3)
    history = bp.fit(net, X_, y, epochs=config.training.epochs, batch_size=4, progress=False)
    np.testing.assert_array_equal([float(r["loss"]) for r in rows], history.loss)


def test_seed_statistics_are_recomputed_from_the_saved_runs(run) -> None:
    _, out, stdout, _ = run
    summary = {r["function"]: r for r in _csv(out / "tables" / "seeds_summary.csv")}
    for name in ("and", "or", "xor"):
        rows = _csv(out / "seeds" / f"{name}_predictions.csv")
        assert [int(r["seed"]) for r in rows] == list(range(3, 3 + SEEDS))
        p = np.array([[float(r[f"p_{k}"]) for k in ("00", "01", "10", "11")] for r in rows])  # (R, 4)
        y = np.array([float(v) for v in {"and": "0001", "or": "0111", "xor": "0110"}[name]])
        learned = np.all((p > 0.5) == (y > 0.5), axis=1)
        assert [bool(int(r["learned"])) for r in rows] == learned.tolist()
        # The share in the table, recomputed from the saved predictions and from the saved models.
        assert float(summary[name.upper()]["learned"]) == learned.mean()
        models = bp.load(out / "seeds" / f"{name}_models.npz")
        assert models.runs == SEEDS
        np.testing.assert_array_equal(models.predict_proba(X)[..., 0], p)
        printed = {row[0]: row for row in _printed_table(stdout, "Many seeds:")}
        assert printed[name.upper()][2] == f"{learned.mean():.1%}"
        # Median, range and the report's percentile, per row.
        spread = _csv(out / "tables" / f"seeds_{name}.csv")
        reference = load_config(name).reference.predicted
        for i, row in enumerate(spread):
            assert float(row["median"]) == np.median(p[:, i])
            assert float(row["5 %"]) == np.percentile(p[:, i], 5)
            assert float(row["report's percentile"]) == pytest.approx(100 * np.mean(p[:, i] < reference[i]))
        # Run 0 starts from the chosen seed: its predictions agree with the single network's.
        chosen = bp.load(out / name / "model.npz").predict_proba(X)[:, 0]
        np.testing.assert_allclose(p[0], chosen, rtol=0, atol=1e-12)


def test_gradcheck_table(run) -> None:
    _, out, stdout, _ = run
    rows = _csv(out / "tables" / "gradcheck.csv")
    assert [r["function"] for r in rows] == ["AND", "OR", "XOR"]
    assert [int(r["parameters checked"]) for r in rows] == [17, 17, 33]
    assert all(float(r["max relative error"]) < 1e-6 and r["verdict"] == "passed" for r in rows)
    assert all(float(r["rtol"]) == 1e-6 and float(r["atol"]) == 1e-9 for r in rows)  # the per-entry rule's bounds
    assert "passed" in stdout


def test_sweep_tables(run) -> None:
    _, out, _, _ = run
    width = _csv(out / "tables" / "beyond_xor_width.csv")
    assert [r["network"] for r in width] == ["2-1-1", "2-2-1", "2-3-1", "2-4-1", "2-8-1"]
    for r in width:
        shares = [float(v) for k, v in r.items() if k.endswith("epochs")]
        assert all(0 <= s <= 1 for s in shares)
        assert all(s * 6 == round(s * 6) for s in shares)  # a share of 6 seeds
    acts = _csv(out / "tables" / "beyond_activations.csv")
    assert {(r["function"], r["hidden"]) for r in acts} == {(f, a) for f in ("AND", "OR", "XOR")
                                                            for a in ("sigmoid", "tanh", "relu")}


def test_report_markdown(run) -> None:
    _, out, stdout, _ = run
    text = (out / "report.md").read_text()
    assert text.startswith("# ")
    for heading in ("## The report's experiments", "## How much can one seed tell?", "## Beyond the report"):
        assert heading in text
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == sorted(path for path, _ in FIGURES.values())
    assert all((out / link).is_file() for link in links)
    # The printed tables appear verbatim in the report.
    table1 = stdout.split("Table 1 - AND", 1)[1].split("\n\n", 1)[0].split("\n", 1)[1]
    assert table1 in text


def test_bad_flags_exit_2_and_write_nothing(tmp_path, capsys) -> None:
    out = tmp_path / "never"
    for flags, words in ((["--runs", "1"], "--runs"), (["--seeds", "1"], "--runs"), (["--seed", "-2"], "--seed"),
                         (["--sweep-epochs", "0"], "--sweep-epochs"), (["--runs", "many"], "--runs")):
        assert main(["reproduce", "--out", str(out), *flags]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
    assert not out.exists()
    (tmp_path / "file").write_text("x")
    assert main(["reproduce", "--out", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_without_seeds_only_the_report_runs(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "plain"
    assert main(["reproduce", "--out", str(out), "--seeds", "0"]) == 0
    captured = capsys.readouterr()
    assert "Table 3 - XOR" in captured.out and "Many seeds" not in captured.out
    assert "XOR" in captured.err  # progress on stderr
    assert not (out / "seeds").exists()
    assert (out / FIGURES["boundaries"][0]).is_file() and not (out / FIGURES["loss_bands"][0]).exists()
    # Running again replaces the earlier run; a failed gradient check is reported and exits 1.
    failing = GradcheckResult(errors={"0.W": 0.5}, checked={"0.W": 1}, rtol=1e-6, atol=1e-9, eps=1e-7,
                              failed={"0.W": 1})
    module = importlib.import_module("backproplab.experiments.reproduce")  # not the function of that name
    monkeypatch.setattr(module, "gradcheck", lambda *args, **kwargs: failing)
    assert main(["reproduce", "--out", str(out), "--seeds", "0", "--seed", "1", "-q", "--no-explorer"]) == 1
    assert "gradient check FAILED for AND, OR, XOR" in capsys.readouterr().err
    assert parse_toml((out / "and" / "config.toml").read_text()).training.seed == 1
    assert [r["verdict"] for r in _csv(out / "tables" / "gradcheck.csv")] == ["FAILED"] * 3


def test_help(capsys) -> None:
    assert main(["reproduce", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--runs" in help_text and "--sweep-runs" in help_text and "--seeds" not in help_text  # the old names hide
