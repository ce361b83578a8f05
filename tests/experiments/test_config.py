"""Experiment configs: the shipped files say what the report did; bad values fail with one line naming the key."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.experiments.config import (
    ConfigError,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    ReferenceConfig,
    TrainingConfig,
    from_dict,
    load_config,
    parse_toml,
    shipped_configs,
    to_dict,
    to_toml,
)

REPORT = {  # name: (hidden, epochs, the report's predicted values)
    "and": ((4,), 1000, (0.0113, 0.1635, 0.1326, 0.6928)),
    "or": ((4,), 1000, (0.1446, 0.9238, 0.9433, 0.9887)),
    "xor": ((8,), 2000, (0.2229, 0.7662, 0.6046, 0.3977)),
}


@pytest.mark.parametrize("name", sorted(REPORT))
def test_shipped_configs_are_the_reports_setup(name: str) -> None:
    config = load_config(name)
    hidden, epochs, predicted = REPORT[name]
    assert config.data.name == name
    assert config.model == ModelConfig(hidden=hidden, activation="sigmoid", output="sigmoid", init="he_normal",
                                       dtype="float64")
    t = config.training
    assert (t.optimizer, t.lr, t.epochs, t.batch_size, t.clip_norm) == ("sgd", 0.1, epochs, 4, None)
    assert config.reference.predicted == predicted


def test_shipped_configs_are_listed() -> None:
    assert set(REPORT) <= set(shipped_configs())


def test_file_path_wins_over_shipped_name(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xor").write_text('name = "mine"\n[training]\nepochs = 7\n')
    assert load_config("xor").training.epochs == 7
    assert load_config(tmp_path / "xor").name == "mine"


@pytest.mark.parametrize("name", sorted(REPORT))
def test_toml_round_trip_of_shipped_configs(name: str) -> None:
    config = load_config(name)
    assert parse_toml(to_toml(config)) == config
    assert from_dict(to_dict(config)) == config


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
#: A config's name is one file name: printable, no separator, not "." or ".." (issue 20, item 9).
names = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="/\\"),
                min_size=1, max_size=30).filter(lambda s: s.isprintable() and s not in (".", ".."))


@settings(max_examples=60, deadline=None)
@given(
    name=names, title=text, description=text,
    hidden=st.lists(st.integers(1, 100_000), min_size=1, max_size=4),
    lr=st.floats(1e-300, 1e300), clip=st.none() | st.floats(1e-9, 1e9),
    epochs=st.integers(1, 10_000_000), seed=st.integers(0, 2**63 - 1), shuffle=st.booleans(),
    predicted=st.none() | st.lists(st.floats(0, 1), min_size=4, max_size=4),
    activation=st.sampled_from(["sigmoid", "tanh", "relu"]), data=st.sampled_from(["and", "xor", "nand"]),
)
def test_toml_round_trip_of_any_valid_config(name, title, description, hidden, lr, clip, epochs, seed, shuffle,
                                             predicted, activation, data) -> None:
    config = ExperimentConfig(
        name=name, title=title, description=description, data=DataConfig(name=data),
        model=ModelConfig(hidden=tuple(hidden), activation=activation),
        training=TrainingConfig(lr=lr, clip_norm=clip, epochs=epochs, seed=seed, shuffle=shuffle),
        reference=ReferenceConfig(predicted=None if predicted is None else tuple(predicted)),
    )
    assert parse_toml(to_toml(config)) == config


def test_defaults_fill_missing_sections() -> None:
    config = parse_toml('name = "tiny"\n[model]\nhidden = [3]\n')
    assert config.model.hidden == (3,)
    assert config.training == TrainingConfig()
    assert config.data == DataConfig()


def test_integers_are_accepted_for_floats() -> None:
    assert parse_toml("[training]\nlr = 1\n").training.lr == 1.0
    assert isinstance(parse_toml("[training]\nlr = 1\n").training.lr, float)


BAD = [
    # (TOML, words the one-line message must contain)
    ("[training]\nlearning_rate = 0.1\n", ["unknown key [training] learning_rate", "allowed:", "lr"]),
    ("[traning]\nlr = 0.1\n", ["unknown key traning", "did you mean training?"]),
    ("[model]\nactivaton = 'tanh'\n", ["unknown key [model] activaton", "did you mean activation?"]),
    ("[training]\nlr = 0\n", ["[training] lr", "> 0", "got 0"]),
    ("[training]\nlr = -0.5\n", ["[training] lr", "> 0"]),
    ("[training]\nlr = nan\n", ["[training] lr", "number"]),
    ("[training]\nlr = 'fast'\n", ["[training] lr", "must be a number", "'fast'"]),
    ("[training]\nepochs = 0\n", ["[training] epochs", "integer from 1 to 10000000", "got 0"]),
    ("[training]\nepochs = 10.5\n", ["[training] epochs", "integer"]),
    ("[training]\nepochs = '10'\n", ["[training] epochs", "integer", "'10'"]),
    ("[training]\nepochs = true\n", ["[training] epochs", "integer", "True"]),
    ("[training]\nseed = -1\n", ["[training] seed", ">= 0"]),
    ("[training]\nshuffle = 1\n", ["[training] shuffle", "true or false"]),
    ("[training]\noptimizer = 'adamm'\n", ["[training] optimizer", "one of", "sgd", "'adamm'"]),
    ("[model]\nhidden = 8\n", ["[model] hidden", "list of integers"]),
    ("[model]\nhidden = []\n", ["[model] hidden", "non-empty list"]),
    ("[model]\nhidden = [8, 0]\n", ["[model] hidden[1]", "integer from 1", "got 0"]),
    ("[model]\nactivation = 'swish'\n", ["[model] activation", "one of", "sigmoid", "tanh", "'swish'"]),
    ("[model]\ndtype = 'float16'\n", ["[model] dtype", "float32", "float64"]),
    ("[data]\nname = 'xnr'\n", ["[data] name", "xnor", "'xnr'"]),
    ("[reference]\npredicted = [0.1, 1.5, 0.2, 0.3]\n", ["[reference] predicted[1]", "from 0 to 1"]),
    ("[reference]\npredicted = [0.1, 0.2]\n", ["[reference] predicted", "one value per row", "(4)"]),
    ("model = 3\n", ["model must be a table"]),
    ("name = 3\n", ["name must be a string"]),
    ("[model\n", ["not valid TOML"]),
]


@pytest.mark.parametrize(("toml", "words"), BAD, ids=[b[0].split("\n")[0] + " " + b[0].split("\n")[1] for b in BAD])
def test_bad_values_fail_with_one_line_naming_the_key(toml: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_toml(toml, source="exp.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("exp.toml: ")
    for word in words:
        assert word in message


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="lr"):
        parse_toml("[training]\nlr = -1\n")


def test_flags_are_named_instead_of_keys() -> None:
    raw = to_dict(load_config("xor"))
    raw["training"]["epochs"] = 0
    with pytest.raises(ConfigError, match=r"^--epochs must be an integer from 1 .* got 0$"):
        from_dict(raw, source="xor.toml", flags={("training", "epochs"): "--epochs"})


def test_missing_file_and_unknown_name() -> None:
    with pytest.raises(ConfigError, match=r"no config file 'nowhere.toml'.*shipped: .*xor"):
        load_config("nowhere.toml")


def test_unreadable_file(tmp_path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"name = '\xe9'\n")
    with pytest.raises(ConfigError, match=r"latin1\.toml"):
        load_config(path)


def test_replace_validates_and_keeps_the_rest() -> None:
    config = load_config("xor")
    wider = config.replace("model", hidden=[16])
    assert wider.model.hidden == (16,)
    assert dataclasses.replace(wider, model=config.model) == config
    with pytest.raises(ConfigError, match="hidden"):
        config.replace("model", hidden=[0])


def test_saved_toml_documents_every_key() -> None:
    lines = [line for line in to_toml(load_config("and")).splitlines() if "=" in line]
    assert lines and all("  # " in line for line in lines)


@pytest.mark.parametrize("name", ["/tmp/x", "../../x", "..", ".", "", "a/b", "a\\b", "x\ny", "runs/../../etc"])
def test_a_name_is_a_name_never_a_path(name: str) -> None:
    # Issue 20, item 9: the default output is runs/<name> (sweeps/<name>); a path there writes anywhere.
    with pytest.raises(ConfigError, match="name must be a name, not a path"):
        from_dict({"name": name}, source="c.toml")


def test_a_path_as_name_is_refused_before_train_or_sweep_write_anything(tmp_path, monkeypatch, capsys) -> None:
    from backproplab.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text('name = "../escaped"\n[training]\nepochs = 2\n')
    assert main(["train", "c.toml", "--quiet"]) == 2
    assert main(["sweep", "c.toml", "--grid", "training.lr=[1.0]", "--quiet"]) == 2
    assert "name must be a name" in capsys.readouterr().err
    assert not (tmp_path.parent / "escaped").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]
