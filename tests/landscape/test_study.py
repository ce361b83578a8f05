"""The seed-failure study: its classes follow the stated thresholds, its numbers are each failed seed's own."""

from __future__ import annotations

import numpy as np

import backproplab as bp
from backproplab.data import logic_table
from backproplab.landscape import hessian, spectrum, study


def test_classify_follows_the_stated_thresholds():
    g = np.array([1e-2, 1e-3, 9e-4, 9e-4, 9e-4])
    lam = np.array([-1.0, -1.0, -2e-6, -1e-6, 0.5])
    assert list(study.classify(g, lam)) == ["still moving", "still moving", "saddle", "minimum or plateau",
                                            "minimum or plateau"]
    text = study.criteria()
    assert f"||g|| >= {study.GRAD_TOL:g}" in text and f"-{study.NEG_TOL:g}" in text


def test_failures_measure_each_failed_seeds_own_last_point():
    r = study.failures(2, 300, seeds=12)  # few epochs: most seeds fail
    assert 0 < len(r.failed) <= 12 and r.name == "2-2-1, 300 epochs"
    assert set(r.kind) <= set(study.CLASSES)
    X, y = logic_table("xor")
    seed = int(r.failed[-1])
    net = bp.mlp([2, 2, 1], seed=seed)  # run r of a stack is seed r alone (to the last bit or nearly)
    bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=300, batch_size=4, progress=False)
    s = spectrum(hessian(net, X, y))
    _, grads = bp.loss_and_gradients(net, X, y)
    norm = np.sqrt(sum((g**2).sum() for g in grads.values()))
    assert abs(r.min_eigenvalue[-1] - s.min) < 1e-7 and abs(r.max_eigenvalue[-1] - s.max) < 1e-7
    assert abs(r.grad_norm[-1] - norm) < 1e-9
    assert np.all(r.wrong >= 1)
    assert "2-2-1, 300 epochs" in study.table_text([r]) and "failed seeds" in study.compare(r)


def test_the_study_command_writes_its_table_and_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(study, "SETTINGS", ((2, 50), (8, 50)))
    assert study.main(["--seeds", "4", "--out", str(tmp_path)]) == 0
    assert "Criteria at each failed seed's last epoch" in capsys.readouterr().out
    assert (tmp_path / "failures.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 2-8-1, 50 epochs" in (tmp_path / "failures.md").read_text()
    assert study.main(["--seeds", "0"]) == 2


def test_extend_trains_the_failed_seeds_on_and_keeps_those_that_still_fail():
    before = study.failures(2, 100, seeds=6)
    after = study.failures(2, 100, seeds=6, extend=200)
    assert after.name == "2-2-1, 100 epochs + 200 more"
    assert set(after.failed) <= set(before.failed)
    X, y = logic_table("xor")
    seed = int(after.failed[0])
    net = bp.mlp([2, 2, 1], seed=seed)
    bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=300, batch_size=4, progress=False)
    assert abs(after.loss[0] - bp.loss_and_gradients(net, X, y)[0]) < 1e-9  # 100 + 200 epochs = 300 epochs
    assert study.main(["--extend", "-1"]) == 2
