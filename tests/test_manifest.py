"""prevalence.publication.manifest: hashes, versions and commit, the same bytes for the same inputs."""

import json
import subprocess

from prevalence.publication.manifest import (
    build_manifest,
    file_hashes,
    git_commit,
    package_versions,
)


def test_file_hashes_walk_folders_and_sort_the_paths(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("")
    hashes = file_hashes([tmp_path / "b", tmp_path / "a.txt"])
    assert list(hashes) == [str(tmp_path / "a.txt"), str(tmp_path / "b" / "z.txt")]
    # the SHA-256 of the empty file, as `sha256sum /dev/null` prints it
    assert hashes[str(tmp_path / "a.txt")] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_package_versions_name_a_missing_package_none():
    versions = package_versions(["numpy", "no-such-package-here"])
    assert versions["numpy"] and versions["no-such-package-here"] is None


def test_git_commit_outside_a_checkout_is_none(tmp_path):
    assert git_commit(tmp_path) == {"commit": None, "modified": None}


def test_git_commit_says_whether_tracked_files_were_modified(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f").write_text("1")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "f")
    clean = git_commit(tmp_path)
    assert len(clean["commit"]) == 40 and clean["modified"] is False
    (tmp_path / "f").write_text("2")
    assert git_commit(tmp_path)["modified"] is True


def test_the_manifest_has_no_timestamp_so_a_rerun_gives_the_same_bytes(tmp_path):
    (tmp_path / "in.csv").write_text("a\n")
    kwargs = {"inputs": [tmp_path / "in.csv"], "outputs": [], "config": {"k": 3}}
    first = json.dumps(build_manifest(**kwargs, folder=tmp_path))
    assert first == json.dumps(build_manifest(**kwargs, folder=tmp_path))
    manifest = json.loads(first)
    assert set(manifest) == {"project", "python", "packages", "config", "inputs", "outputs"}
    assert manifest["config"] == {"k": 3}
