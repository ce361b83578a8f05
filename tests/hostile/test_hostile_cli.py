"""Hostile configs and command lines: TOML files and flags with wrong types, unknown keys, out-of-range values.

A config either validates or raises ``ConfigError`` naming the key (a
``BackproplabError`` and a ``ValueError``); ``backproplab train`` given bad
input exits with code 2 and one ``error:`` line before any work, and writes
nothing: no run directory, no checkpoint, no change to an existing file.
"""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backproplab import BackproplabError
from backproplab.cli import main
from backproplab.experiments.config import (
    SECTIONS,
    ConfigError,
    ExperimentConfig,
    from_dict,
    load_config,
    parse_toml,
    to_dict,
    to_toml,
)
from hostile import outcome

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))

#: Values of every wrong type, and numbers out of any range a key could allow.
JUNK = st.one_of(
    st.sampled_from(["", "nope", "1e400", "NaN", [], [1, "a"], {}, {"x": 1}, True, -1, 0, 10**30, -(10**30),
                     float("nan"), float("inf"), float("-inf"), -0.5, 1e308, [[1]]]),
    st.text(max_size=8),
    st.integers(),
    st.floats(),
)


def defaults() -> dict:
    return to_dict(ExperimentConfig())


@SETTINGS
@given(data=st.data())
def test_any_value_at_any_key_is_accepted_or_named(data):
    raw = defaults()
    section = data.draw(st.sampled_from([s for s, v in raw.items() if isinstance(v, dict)]), label="section")
    key = data.draw(st.sampled_from(sorted(raw[section])) if raw[section] else st.just("x"), label="key")
    raw[section][key] = data.draw(JUNK, label="value")
    result = outcome(from_dict, raw, source="hostile.toml")
    if isinstance(result, BaseException):
        assert isinstance(result, ConfigError), result
        assert "hostile.toml" in str(result) and (key in str(result) or section in str(result))
    else:
        assert isinstance(result, ExperimentConfig)
        assert parse_toml(to_toml(result)) == result  # what validates also round-trips


@SETTINGS
@given(section=st.sampled_from(["data", "model", "training", "reference", "nonsense"]), key=st.text(min_size=1,
                                                                                                    max_size=12))
@example(section="data", key="noise")  # a real key that the defaults leave out: not unknown
def test_unknown_keys_are_named(section, key):
    raw = defaults()
    fields = {f.name for f in dataclasses.fields(SECTIONS[section])} if section in SECTIONS else set()
    if key in raw.get(section, {}) or key in fields:
        return
    raw.setdefault(section, {})[key] = 1
    err = outcome(from_dict, raw, source="c.toml")
    assert isinstance(err, ConfigError) and (repr(key)[1:-1] in str(err) or section in str(err))


@SETTINGS
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_arbitrary_text_is_a_config_or_a_config_error(text):
    result = outcome(parse_toml, text, "t.toml")
    assert isinstance(result, (ExperimentConfig, ConfigError)), result


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02", b"\xff\xfe[training]", b"[training]\nepochs = 5\n[training]\nlr = 1\n",
     b"[training\nepochs = 1", b"training = 5", b"[[training]]\nepochs = 1", b'[model]\nhidden = "8"',
     b"[model]\nhidden = [8, -1]", b"[model]\nhidden = [" + b"1," * 10_000 + b"1]",
     b"[training]\nepochs = 99999999999999999999", b"[training]\nlr = nan", b"[training]\nlr = inf",
     b"[training]\nbatch_size = 2.5", b"[training]\nseed = true", b"[data]\nname = \"../../etc/passwd\""],
)
def test_hostile_config_files(tmp_path, content):
    path = tmp_path / "hostile.toml"
    path.write_bytes(content)
    result = outcome(load_config, path)
    assert isinstance(result, (ExperimentConfig, BackproplabError)), result
    if content == b"":  # an empty file is all defaults
        assert isinstance(result, ExperimentConfig)
    assert path.read_bytes() == content


def test_config_paths_that_are_not_config_files(tmp_path):
    assert isinstance(outcome(load_config, tmp_path / "missing.toml"), (FileNotFoundError, ConfigError))
    assert isinstance(outcome(load_config, tmp_path), (FileNotFoundError, ConfigError, ValueError))


# --- the command line ------------------------------------------------------------------------
BAD_FLAGS = {
    "--epochs": ["0", "-5", "abc", "1.5", "", "1e9999"],
    "--lr": ["0", "-1", "nan", "inf", "x"],
    "--hidden": ["0", "a,b", "8,-1", "", ",", "8,,8"],
    "--batch-size": ["0", "-1", "two"],
    "--seed": ["-1", "x", "0.5"],
    "--runs": ["0", "-2", "many"],
    "--data": ["nope", "", "../x"],
    "--activation": ["nope", "", "SIGMOID "],
    "--init": ["nope"],
    "--dtype": ["float16", "int32", "object"],
    "--optimizer": ["nope", "adam "],
    "--clip-norm": ["0", "-1", "nan"],
    "--checkpoint-every": ["0", "-1", "x"],
    "--resume": ["missing-dir"],
}


@pytest.mark.parametrize(("flag", "value"), [(f, v) for f, values in BAD_FLAGS.items() for v in values])
def test_train_refuses_bad_flags_with_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, flag, value):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    code = main(["train", "--epochs", "1", flag, value, "--out", "run"] if flag != "--epochs" else
                ["train", flag, value, "--out", "run"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("target", ["a file", "a foreign directory"])
def test_train_never_replaces_what_it_did_not_write(tmp_path, monkeypatch, capsys, target):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    if target == "a file":
        out.write_text("precious")
    else:
        out.mkdir()
        (out / "thesis.tex").write_text("precious")
    assert main(["train", "xor", "--epochs", "1", "--out", "out", "-q"]) == 2
    assert "error" in capsys.readouterr().err
    assert (out.read_text() if target == "a file" else (out / "thesis.tex").read_text()) == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no checkpoint or staging left behind"


@SETTINGS
@given(argv=st.lists(st.one_of(st.sampled_from([*sorted(BAD_FLAGS), "xor", "--json", "-q", "--nope", "-"]),
                               st.text(max_size=6)), max_size=6))
def test_random_command_lines_never_crash(tmp_path_factory, argv):
    cwd = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        # Cap the work a random valid command line could start.
        result = outcome(main, ["train", *argv, "--epochs", "2", "--out", "run"])
    assert result in (0, 1, 2), result
    if result == 2:
        assert not (cwd / "run").exists() and not (cwd / "run.checkpoint").exists()


def test_shipped_configs_are_valid_toml():
    for name in ("and", "or", "xor"):
        assert isinstance(load_config(name), ExperimentConfig)
        assert tomllib.loads(to_toml(load_config(name)))
