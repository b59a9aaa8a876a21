# SPDX-License-Identifier: BSD-3-Clause
"""Bearer tokens (review 1.12): stored as SHA-256 digests in the token file, clear entries
accepted with a warning, a token file others can write (or read, with clear entries) refused,
and `tessctl token new` to make one."""
import hashlib
import json
import os
import subprocess

import pytest

import mgr
import tess
from mgr import TESSMGRD, Mgr, MgrError


def write_tokens(m, entries, mode=0o600):
    mgr.write_tokens(m.tokens, {"tokens": entries})
    os.chmod(m.tokens, mode)


def check(m):
    with open(m.config_path, "w") as f:
        json.dump(m.config, f)
    return subprocess.run([TESSMGRD, "-c", m.config_path, "--check"], capture_output=True,
                          text=True, timeout=60)


def test_hashed_tokens(cleanup, tmp_path):
    tok = "a-hashed-provider-token-0123"
    m = Mgr(cleanup, tmp_path)
    write_tokens(m, [{"sha256": hashlib.sha256(tok.encode()).hexdigest(), "principal": "ops",
                      "role": "provider"}])
    m.start()
    assert m.call("GET", "usage", token=tok)[0] == 200
    # The digest is not the token, nor is any prefix or extension of the token.
    assert m.call("GET", "usage", token=hashlib.sha256(tok.encode()).hexdigest())[0] == 401
    assert m.call("GET", "usage", token=tok[:-1])[0] == 401
    assert m.call("GET", "usage", token=tok + "x")[0] == 401


def test_clear_tokens_still_accepted_with_a_warning(cleanup, tmp_path):
    tok = "a-clear-provider-token-0123"
    m = Mgr(cleanup, tmp_path)
    write_tokens(m, [{"token": tok, "principal": "ops", "role": "provider"}])
    r = check(m)
    assert r.returncode == 0, r.stderr
    digest = hashlib.sha256(tok.encode()).hexdigest()
    assert "/tokens/0/token: a clear token" in r.stderr and digest in r.stderr, r.stderr
    m.start()
    assert m.call("GET", "usage", token=tok)[0] == 200


@pytest.mark.parametrize("entry, where", [
    ({"token": "x" * 20, "sha256": "0" * 64, "principal": "p", "role": "provider"},
     "/tokens/0"),
    ({"principal": "p", "role": "provider"}, "/tokens/0"),
    ({"sha256": "0" * 63, "principal": "p", "role": "provider"}, "/tokens/0"),
    ({"sha256": "G" * 64, "principal": "p", "role": "provider"}, "/tokens/0/sha256"),
    ({"token": "short", "principal": "p", "role": "provider"}, "/tokens/0"),
])
def test_bad_entries(cleanup, tmp_path, entry, where):
    m = Mgr(cleanup, tmp_path)
    write_tokens(m, [entry])
    r = check(m)
    assert r.returncode == 1 and where in r.stderr, r.stderr


def test_same_token_twice_refused(cleanup, tmp_path):
    tok = "the-same-token-0123456789"
    m = Mgr(cleanup, tmp_path)
    write_tokens(m, [{"token": tok, "principal": "a", "role": "provider"},
                     {"sha256": hashlib.sha256(tok.encode()).hexdigest(), "principal": "b",
                      "role": "provider"}])
    r = check(m)
    assert r.returncode == 1 and "the same as /tokens/0" in r.stderr, r.stderr


def test_token_file_permissions(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path)
    hashed = [{"sha256": "0" * 64, "principal": "ops", "role": "provider"}]
    clear = [{"token": "c" * 20, "principal": "ops", "role": "provider"}]
    # Anyone who can write it can make themselves a provider token.
    for mode in (0o666, 0o620, 0o602):
        write_tokens(m, hashed, mode)
        r = check(m)
        assert r.returncode == 1 and "writable by others" in r.stderr, (oct(mode), r.stderr)
    # Readable by others: clear tokens refused, digests only warned about.
    write_tokens(m, clear, 0o644)
    r = check(m)
    assert r.returncode == 1 and "readable by others" in r.stderr, r.stderr
    write_tokens(m, hashed, 0o644)
    r = check(m)
    assert r.returncode == 0 and "readable by others" in r.stderr, r.stderr
    write_tokens(m, clear, 0o640)
    r = check(m)
    assert r.returncode == 0 and "readable" not in r.stderr, r.stderr
    # A reload keeps the old tokens when the file turns bad.
    write_tokens(m, hashed, 0o600)
    m.start()
    write_tokens(m, hashed, 0o666)
    m.proc.send_signal(1)
    tess.wait_for(lambda: "kept (bad file)" in m.log(), 30, "the reload refused")
    assert m.proc.poll() is None


def tessctl(*args):
    return subprocess.run([tess.TESSCTL, *args], capture_output=True, text=True, timeout=60)


def test_tessctl_token_new(cleanup, tmp_path):
    r = tessctl("token", "new", "--role", "tenant", "--tenant", "acme")
    assert r.returncode == 0, r.stderr
    tok, entry = r.stdout.splitlines()[:2]
    entry = json.loads(entry)
    assert entry == {"sha256": hashlib.sha256(tok.encode()).hexdigest(), "principal": "acme",
                     "role": "tenant", "tenant": "acme"}
    assert len(tok) >= 32
    other = tessctl("token", "new", "--role", "provider", "--principal", "ops")
    assert other.returncode == 0, other.stderr
    tok2, entry2 = other.stdout.splitlines()[:2]
    assert tok2 != tok and json.loads(entry2)["role"] == "provider"
    j = json.loads(tessctl("--json", "token", "new", "--role", "provider").stdout)
    assert set(j) == {"token", "entry"}
    # What it prints is what tessmgrd takes.
    m = Mgr(cleanup, tmp_path)
    write_tokens(m, [json.loads(entry2), entry])
    m.start()
    assert m.call("GET", "usage", token=tok2)[0] == 200
    # Known (not 401): refused only because tenant acme does not exist yet.
    assert m.call("GET", "usage", token=tok)[0] == 403
    for bad in (["--role", "tenant"], ["--role", "provider", "--tenant", "acme"],
                ["--role", "root"], ["--tenant", "acme"], ["--role"]):
        r = tessctl("token", "new", *bad)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)


def test_helpers_write_hashed_tokens(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path)
    with open(m.tokens) as f:
        entries = json.load(f)["tokens"]
    assert entries and all("sha256" in e and "token" not in e for e in entries)
    assert os.stat(m.tokens).st_mode & 0o077 == 0
    try:
        m.start()
    except MgrError as e:
        raise AssertionError(str(e))
    assert "clear token" not in m.log()


def test_tessctl_token_file(cleanup, tmp_path):
    """Review 1.11: -T puts the token in argv, readable by any local user in /proc; a token
    file is the alternative to $TESSMGR_TOKEN."""
    m = Mgr(cleanup, tmp_path).start()
    path = tmp_path / "my-token"
    path.write_text(mgr.PROVIDER + "\n")
    r = tessctl("-m", m.url, "--token-file", str(path), "--json", "usage")
    assert r.returncode == 0, r.stderr
    for text, why in (("", "no token"), ("\n" + mgr.PROVIDER, "no token")):
        path.write_text(text)
        r = tessctl("-m", m.url, "--token-file", str(path), "usage")
        assert r.returncode == 2 and why in r.stderr, r.stderr
    r = tessctl("-m", m.url, "--token-file", str(tmp_path / "none"), "usage")
    assert r.returncode == 2 and "No such file" in r.stderr, r.stderr
