"""The algorithm names of the CLI help and of the docs table come from the registry."""

from __future__ import annotations

import pytest

from hspy_unmix import _registry
from hspy_unmix.cli import main


def test_cli_algorithm_help_lists_every_registered_name(capsys):
    with pytest.raises(SystemExit):
        main(["unmix", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in list(_registry.ALGORITHMS) + list(_registry.HYPERSPY_ALGORITHMS):
        assert name in text


def test_docs_table_has_one_row_per_registered_name():
    table = _registry.markdown_algorithm_table().splitlines()
    names = [row.split("|")[1].strip().strip("`") for row in table[2:]]
    assert names == list(_registry.ALGORITHMS)
