"""What the commands say must be true, and every refusal comes before any work (issue 11, parts 2 and 3).

The CLI cases drive the real ``backproplab`` entry point in a subprocess where
the message or the exit code is the point; ``main`` in-process where the files
a run leaves are.
"""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import backproplab as bp
from backproplab.cli import COMMANDS, build_parser, main
from backproplab.experiments.config import load_config
from backproplab.experiments.rundir import RunDirError
from backproplab.train.checkpoint import load_checkpoint

from console import backproplab_command, start


def backproplab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*backproplab_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


# --- resuming ------------------------------------------------------------------------------
def test_a_finished_run_says_so_and_trains_on_with_more_epochs(tmp_path):
    assert main(["train", "xor", "--epochs", "50", "--out", str(tmp_path / "r7"), "-q"]) == 0
    done = backproplab("train", "--resume", "r7", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("backproplab train: error: r7 is finished: it trained all its 50 epochs. To train "
                                   "on, give the new total: --resume r7 --epochs N with N > 50")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r7"], "no r7.checkpoint/ left behind"
    fewer = backproplab("train", "--resume", "r7", "--epochs", "20", cwd=tmp_path)
    assert fewer.returncode == 2 and "--epochs 20 is not more than the 50 epochs r7 has done" in fewer.stderr
    more = backproplab("train", "--resume", "r7", "--epochs", "80", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    assert "resuming from epoch 50 of 80" in more.stderr
    assert load_checkpoint(tmp_path / "r7" / "checkpoint.npz").epoch == 80
    # The same 80 epochs in one go give the same network.
    assert main(["train", "xor", "--epochs", "80", "--out", str(tmp_path / "ref"), "-q"]) == 0
    a, b = bp.load(tmp_path / "r7" / "model.npz"), bp.load(tmp_path / "ref" / "model.npz")
    assert all((a.params[k] == v).all() for k, v in b.params.items())
    description = load_config(tmp_path / "r7" / "config.toml").description
    assert description.endswith("; changed from the command line: the values below are this run's")


def test_an_interrupted_run_says_where_it_resumes_from(tmp_path):
    from backproplab.cli.train import state_dir

    config = load_config("xor").replace("training", epochs=30)
    assert main(["train", "xor", "--epochs", "30", "--out", str(tmp_path / "r"), "-q"]) == 0
    state = state_dir(tmp_path / "r")  # the state an interrupted run leaves: its checkpoint beside the run
    state.mkdir()
    (state / "checkpoint.npz").write_bytes((tmp_path / "r" / "checkpoint.npz").read_bytes())
    (state / "config.toml").write_text((tmp_path / "r" / "config.toml").read_text())
    done = backproplab("train", "--resume", "r", "--epochs", "40", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "training XOR: 2-8-1 sigmoid, resuming from epoch 30 of 40" in done.stderr
    assert config.training.epochs == 30


# --- the config against its data, before any work ----------------------------------------------
@pytest.mark.parametrize(("args", "says"), [
    (["xor", "--output", "softmax"], "output softmax does not fit xor"),
    (["--data", "moons", "--output", "identity"], "output identity (regression, mean squared error) does not fit"),
    (["--data", "moons", "--n-samples", "3"], "use --n-samples 8 or more"),
    (["--data", "moons", "--n-samples", "4", "--val", "0.5", "--test", "0.4"], "it gives 0 training, 2 validation"),
    (["xor", "--hidden", "100000,100000"], "a 2-100000-100000-1 network needs about 22"),
    (["xor", "--val", "0.3"], "--val has no effect on xor"),
    (["--data", "parity", "--test", "0.3"], "--test has no effect on parity"),
    (["--data", "mnist1d", "--test", "0.3"], "mnist1d keeps its official test set"),
    (["--data", "digits", "--n-samples", "100"], "--n-samples has no effect on digits"),
])
def test_a_config_that_cannot_train_on_its_data_is_refused_in_one_line(tmp_path, args, says):
    done = backproplab("train", *args, "--out", "r", cwd=tmp_path)
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [], "nothing written, no checkpoint left to block a rerun"


def test_the_smallest_sample_count_it_suggests_does_train(tmp_path):
    assert main(["train", "--data", "moons", "--n-samples", "8", "--epochs", "2", "--out", str(tmp_path / "m"),
                 "-q"]) == 0


def test_no_test_part_reports_on_the_validation_part(tmp_path, capsys):
    """``--test 0`` ended in "X is empty": the confusion matrix was always taken on the test part."""
    assert main(["train", "--data", "moons", "--n-samples", "40", "--test", "0", "--epochs", "2", "--out",
                 str(tmp_path / "m"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["part"] == "val" and set(result["accuracy"]) == {"train", "val"}
    assert (tmp_path / "m" / "tables" / "per_class.csv").read_text().startswith("class,val rows,")
    assert main(["train", "--data", "moons", "--n-samples", "40", "--val", "0", "--test", "0", "--epochs", "2",
                 "--out", str(tmp_path / "n"), "-q"]) == 0


def test_memory_estimate_counts_runs_and_the_optimizer():
    from backproplab.experiments.build import memory_needed

    config = load_config("xor")
    one = memory_needed(config, [2, 1000, 1], 4)
    assert memory_needed(config.replace("training", runs=10), [2, 1000, 1], 4) > 9 * one
    assert memory_needed(config.replace("training", optimizer="adam"), [2, 1000, 1], 4) > one
    n_params = 2 * 1000 + 1000 + 1000 + 1
    assert one >= 8 * 3 * n_params  # at least the parameters, their gradients and one copy, in float64


def test_directory_given_as_config_is_named(tmp_path):
    (tmp_path / "cfg").mkdir()
    done = backproplab("train", "cfg", cwd=tmp_path)
    assert done.returncode == 2 and "cfg is a directory, not a config file" in done.stderr
    assert main(["train", "xor", "--epochs", "3", "--out", str(tmp_path / "run"), "-q"]) == 0
    done = backproplab("train", "run", cwd=tmp_path)
    assert "did you mean run/config.toml?" in done.stderr


def test_mlp_without_a_seed_says_what_is_wrong():
    with pytest.raises(TypeError, match="seed must be a non-negative int or a sequence of them, got None"):
        bp.mlp([2, 8, 1], seed=None)


# --- output paths ------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["train", "xor"], ["reproduce"], ["explore", "run"]])
@pytest.mark.parametrize("out", ["file/x", "/proc/x/y", "/sys/x"])
def test_an_unwritable_out_is_refused_before_any_work(tmp_path, command, out):
    (tmp_path / "file").write_text("a file\n")
    if command[0] == "explore":
        assert main(["train", "xor", "--epochs", "3", "--out", str(tmp_path / "run"), "-q"]) == 0
    before = sorted(tmp_path.rglob("*"))
    done = backproplab(*command, "--out", out, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"backproplab {command[0]}: error: --out {out}: ")
    assert "[" not in done.stderr, "one line, no progress: refused before any work"
    assert sorted(tmp_path.rglob("*")) == before


def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    from backproplab.cli._common import check_out

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(RunDirError, match=r"--out .*/x: cannot write in .* \(Read-only file system\)"):
        check_out(tmp_path / "x")


# --- Ctrl-C ---------------------------------------------------------------------------------------
def test_ctrl_c_during_explore_is_one_line_and_exit_130(tmp_path):
    (tmp_path / "long").mkdir()
    (tmp_path / "long" / "config.toml").write_text('name = "long"\n[training]\nepochs = 10000000\n')
    proc = start("explore", "long", cwd=tmp_path, stderr=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL)
    first = proc.stderr.readline()
    assert "re-training long" in first
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130
    assert rest.strip() == ("backproplab explore: interrupted by Ctrl-C; stopped; every file is written whole or "
                            "not at all")
    assert sorted(p.name for p in (tmp_path / "long").iterdir()) == ["config.toml"]


# --- what train prints --------------------------------------------------------------------------
@pytest.mark.parametrize("runs", [1, 4])
def test_json_learned_has_one_shape_for_one_run_and_many(tmp_path, capsys, runs):
    assert main(["train", "xor", "--epochs", "2000", "--runs", str(runs), "--out", str(tmp_path / "r"),
                 "--json"]) == 0
    learned = json.loads(capsys.readouterr().out)["learned"]
    assert set(learned) == {"share", "count", "runs"} and learned["runs"] == runs
    assert learned["share"] == learned["count"] / runs
    if runs == 1:
        assert learned == {"share": 1.0, "count": 1, "runs": 1}  # the report's seed-0 XOR network learns


def test_early_stopping_says_when_it_stopped(tmp_path, capsys):
    args = ["train", "--data", "moons", "--patience", "2", "--epochs", "500", "--lr", "1", "--out",
            str(tmp_path / "es")]
    assert main([*args, "-q"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("early stopping"))
    epochs = int(line.split("after epoch ")[1].split()[0])
    assert epochs < 500 and line.startswith(f"early stopping: stopped after epoch {epochs} of 500")
    assert len((tmp_path / "es" / "history.csv").read_text().splitlines()) == epochs + 1
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["epochs"] == epochs and result["stopped_early"] is True


def test_the_description_follows_the_flags(tmp_path):
    assert main(["train", "xor", "--epochs", "50", "--out", str(tmp_path / "r"), "-q"]) == 0
    text = load_config(tmp_path / "r" / "config.toml").description
    assert text == load_config("xor").description + "; changed from the command line: the values below are this run's"
    assert main(["train", "xor", "--out", str(tmp_path / "s"), "-q"]) == 0
    assert load_config(tmp_path / "s" / "config.toml").description == load_config("xor").description


# --- usage ----------------------------------------------------------------------------------------
def test_an_unknown_flag_gets_the_commands_usage(tmp_path):
    done = backproplab("train", "xor", "--bogus", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["usage: backproplab train [options] [CONFIG]  (all options: backproplab "
                                        "train --help)", "backproplab train: error: unrecognized arguments: --bogus"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_quiet(command, capsys):
    """The README says so: every command, including those added later."""
    assert main([command, "--help"]) == 0
    assert "--quiet" in capsys.readouterr().out
    args = build_parser().parse_args([command, "--quiet", *(["PATH"] if command in ("explore", "landscape") else [])])
    assert args.quiet is True


def test_an_error_no_command_caught_is_one_line_from_the_console_script(tmp_path, monkeypatch, capsys):
    from backproplab import cli
    from backproplab.cli import train

    def broken(*args, **kwargs):
        raise IndexError("a bug")

    monkeypatch.setattr(train, "train", broken)
    monkeypatch.setattr(sys, "argv", ["backproplab", "train", "xor", "--out", str(tmp_path / "r"), "-q"])
    with pytest.raises(SystemExit) as exit_:
        cli.entrypoint()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("backproplab train: error: unexpected IndexError: a bug (a bug: please report it")
    assert list(tmp_path.iterdir()) == [], "no r.checkpoint/ left to block a rerun"
    monkeypatch.setenv("BACKPROPLAB_DEBUG", "1")
    with pytest.raises(IndexError):
        cli.entrypoint()
