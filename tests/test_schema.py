"""One formatter of schema errors for config.yaml, codebooks and the config's blocks."""

import pytest

from prevalence.errors import ConfigError
from prevalence.schema import read_yaml, validate_document


@pytest.mark.parametrize(
    ("document", "block", "message", "fix"),
    [
        ({"estimates": {"levle": 0.9}, "waves": {}}, None, "unknown key 'levle'", "'level'"),
        ({"min_nn": 30}, "publication", "under publication", "did you mean 'min_n'"),
        ({"famly": "all"}, "comparisons", "under comparisons", "allowed keys here"),
        ({"standard": "x"}, "publication", "publication.standard", "use one of"),
        ({"within": [{"domain": "role"}]}, "comparisons", "comparisons.within[0]", "pairs"),
    ],
)
def test_every_schema_error_names_the_key_and_the_fix(document, block, message, fix):
    with pytest.raises(ConfigError) as caught:
        validate_document(document, "config", source="config.yaml", block=block)
    assert message in str(caught.value) and fix in str(caught.value)
    assert "config.yaml" in str(caught.value)


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="appears twice"):
        read_yaml(path, what="test file")
