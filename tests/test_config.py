import dataclasses

import pytest

from erc_core.config import load_config


@dataclasses.dataclass
class Inner:
    hidden: int = 100
    names: tuple = ("a",)


@dataclasses.dataclass
class Outer:
    epochs: int = 5
    lr: float = 1e-4
    model: Inner = dataclasses.field(default_factory=Inner)


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 7\nmodel:\n  hidden: 32\n")
    cfg = load_config(Outer, path, ["lr=0.5", "model.names=[t, a]"])
    assert cfg.epochs == 7 and cfg.lr == 0.5
    assert cfg.model.hidden == 32 and cfg.model.names == ["t", "a"]


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ValueError, match="model.hiden"):
        load_config(Outer, None, ["model.hiden=3"])


@dataclasses.dataclass
class Numbers:
    lr: float = 1e-4
    head_lr: "float | None" = None
    epochs: int = 3


def test_float_fields_accept_yaml_exponents_and_ints():
    cfg = load_config(Numbers, None, ["lr=1e-3", "head_lr=2", "epochs=4"])
    assert cfg.lr == 0.001 and isinstance(cfg.lr, float)
    assert cfg.head_lr == 2.0 and isinstance(cfg.head_lr, float)
    assert cfg.epochs == 4


def test_non_numbers_in_number_fields_are_named():
    with pytest.raises(ValueError, match="lr: expected a number, got 'fast'"):
        load_config(Numbers, None, ["lr=fast"])
    with pytest.raises(ValueError, match="epochs: expected an integer"):
        load_config(Numbers, None, ["epochs=many"])
