"""File storage: the same behaviour from the local disk and from S3 (a real S3 API server on
127.0.0.1, moto's server mode), keys that cannot name anything outside the store, and the settings
that choose between them."""

from __future__ import annotations

import os
import stat

import pytest

from api.core import storage as storage_module
from api.core.storage import BadKey, LocalStorage, NotFound, get_storage, new_key, read_all
from tests.conftest import REAL_SELLER


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    """Each test below runs once against the local disk and once against the S3 server, both chosen
    the way the app chooses them: through the settings and get_storage()."""
    from api.core.config import get_settings

    if request.param == "s3":
        request.getfixturevalue("use_s3")
    else:
        monkeypatch.setattr(get_settings(), "storage", "local")
        monkeypatch.setattr(get_settings(), "uploads_dir", tmp_path / "uploads")
    return get_storage()


def test_the_settings_choose_the_store(store, request):
    kind = request.node.callspec.params["store"]
    assert type(store).__name__ == {"local": "LocalStorage", "s3": "S3Storage"}[kind]


def test_what_is_put_comes_back_byte_for_byte_in_chunks(store):
    key = new_key("tests")
    data = os.urandom(3 * storage_module.CHUNK + 17)  # several chunks and a short last one
    store.put(key, data, "application/pdf")
    chunks = list(store.open(key))
    assert len(chunks) >= 2 and all(len(c) <= storage_module.CHUNK for c in chunks)
    assert b"".join(chunks) == data
    assert store.exists(key)


def test_putting_again_replaces_the_file(store):
    key = new_key("tests")
    store.put(key, b"first version", "text/plain")
    store.put(key, b"second", "text/plain")
    assert read_all(store, key) == b"second"


def test_a_missing_file_is_not_found_before_any_byte_is_streamed(store):
    key = new_key("tests")
    assert store.exists(key) is False
    with pytest.raises(NotFound) as exc:
        store.open(key)  # raised by open itself, not on the first chunk: a route can still answer 404
    assert exc.value.status_code == 404 and exc.value.code == "file_not_found"


def test_delete_removes_and_is_idempotent(store):
    key = new_key("tests")
    store.put(key, b"to be removed", "text/plain")
    store.delete(key)
    assert store.exists(key) is False
    with pytest.raises(NotFound):
        store.open(key)
    store.delete(key)  # again: no error
    store.delete(new_key("tests"))  # never stored: no error


def test_an_empty_file_round_trips(store):
    key = new_key("tests")
    store.put(key, b"", "text/plain")
    assert store.exists(key) and read_all(store, key) == b""


@pytest.mark.parametrize("bad", ["../outside", "/etc/passwd", "a/../../b", "a\\b", "cv.pdf", "", "a//b", "a/",
                                 "x" * 300, "a/\x00b", "a b", "é"])
def test_keys_that_are_not_cadres_own_are_refused_everywhere(store, bad):
    for call in (lambda: store.put(bad, b"x", "text/plain"), lambda: store.open(bad),
                 lambda: store.delete(bad), lambda: store.exists(bad)):
        with pytest.raises(BadKey):
            call()


def test_new_keys_are_random_under_their_prefix_and_never_from_a_file_name():
    keys = {new_key("submissions") for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        prefix, year, month, token = key.split("/")
        assert prefix == "submissions" and year.isdigit() and month.isdigit() and len(token) >= 20
    with pytest.raises(BadKey):
        new_key("../escape")


def test_local_files_live_under_the_uploads_directory_readable_by_the_owner_only(tmp_path):
    root = tmp_path / "uploads"
    local = LocalStorage(root)
    key = new_key("submissions")
    local.put(key, b"report", "application/pdf")
    path = root / key
    assert path.read_bytes() == b"report"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    # A symlink planted inside the store cannot lead a key outside it.
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    (root / "submissions" / "planted").symlink_to(outside)
    with pytest.raises(BadKey):
        local.open("submissions/planted")


def test_s3_objects_carry_their_type_and_the_prefix(use_s3, s3_server, monkeypatch):
    from api.core.config import get_settings
    from tests.s3server import S3_KEYS

    monkeypatch.setattr(get_settings(), "s3_prefix", "cadre-uploads")
    store = get_storage()
    key = new_key("submissions")
    store.put(key, b"%PDF-1.7 ...", "application/pdf")
    head = store.client.head_object(Bucket=use_s3, Key=f"cadre-uploads/{key}")
    assert head["ContentType"] == "application/pdf" and head["ContentLength"] == 12
    assert S3_KEYS["s3_region"] in store.client.meta.region_name


def test_production_refuses_local_storage_unless_told_it_is_one_machine():
    from pydantic import ValidationError

    from api.core.config import Settings

    safe = {"env": "production", "secret_key": "x" * 40, "database_url": "postgresql+psycopg://db/cadre",
            "email_backend": "smtp", "base_url": "https://cadre.example.org", "stripe_secret_key": "sk_live_x",
            "stripe_webhook_secret": "whsec_x", **REAL_SELLER}
    with pytest.raises(ValidationError, match="CADRE_STORAGE must be s3"):
        Settings(**safe)
    assert Settings(**safe, allow_local_storage_in_production=True).storage == "local"
    assert Settings(**safe, storage="s3", s3_bucket="uploads").storage == "s3"
    with pytest.raises(ValidationError, match="CADRE_S3_BUCKET"):
        Settings(storage="s3")
    with pytest.raises(ValidationError, match="CADRE_S3_SECRET_ACCESS_KEY"):
        Settings(storage="s3", s3_bucket="b", s3_access_key_id="only-half")
