"""Sealing credential secrets from Python, the way core/vault.c does, so a
test can put a credential in the database without the API (and check what
the programs wrote). libsodium through ctypes; no other packages.

    key = read_key(env.fcgi.key_file)               # 32 bytes
    key_id(key)                                     # 16 hex digits
    seal(key, org, cred, "token", "s3cret")         # base64 text
    open_sealed(key, org, cred, "token", text)      # str, or None if it does not open
    insert_credential(env, org, "name", "http.bearer", {}, {"token": "s3cret"})  # -> id
"""
import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import uuid

_lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if _lib.sodium_init() < 0:
    raise RuntimeError("libsodium cannot start")
NPUB = 24
ABYTES = 16


def read_key(path):
    with open(path) as f:
        return bytes.fromhex(f.read().strip())


def key_id(key):
    return hashlib.blake2b(key, digest_size=8, key=b"glyphic-key-id").hexdigest()


def _ad(key, org, cred, field):
    return b"\0".join([b"glyphic-credential-v1", org.encode(), cred.encode(), key_id(key).encode(), field.encode()])


def seal(key, org, cred, field, value):
    m = value.encode()
    ad = _ad(key, org, cred, field)
    nonce = os.urandom(NPUB)
    out = ctypes.create_string_buffer(len(m) + ABYTES)
    out_len = ctypes.c_ulonglong(0)
    _lib.crypto_aead_xchacha20poly1305_ietf_encrypt(out, ctypes.byref(out_len), m, ctypes.c_ulonglong(len(m)), ad,
                                                    ctypes.c_ulonglong(len(ad)), None, nonce, key)
    return base64.b64encode(nonce + out.raw[:out_len.value]).decode()


def open_sealed(key, org, cred, field, text):
    raw = base64.b64decode(text)
    nonce, c = raw[:NPUB], raw[NPUB:]
    ad = _ad(key, org, cred, field)
    out = ctypes.create_string_buffer(max(len(c) - ABYTES, 1))
    out_len = ctypes.c_ulonglong(0)
    rc = _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(out, ctypes.byref(out_len), None, c,
                                                         ctypes.c_ulonglong(len(c)), ad, ctypes.c_ulonglong(len(ad)),
                                                         nonce, key)
    return out.raw[:out_len.value].decode() if rc == 0 else None


def insert_credential(env, org, name, ctype, fields=None, secrets=None, key_path=None, cred_id=None):
    """Inserts a credential as the database owner, its secrets sealed under
    the key file (default: the env's secrets.key_file). Returns its id."""
    key = read_key(key_path or env.fcgi.key_file)
    cid = cred_id or str(uuid.uuid4())
    sealed = {k: seal(key, org, cid, k, v) for k, v in (secrets or {}).items()}
    lit = lambda s: "'" + s.replace("'", "''") + "'"
    env.pg.psql(f"INSERT INTO glyphic.credentials (id, org_id, name, type, fields, secrets, key_id) VALUES "
                f"({lit(cid)}, {lit(org)}, {lit(name)}, {lit(ctype)}, {lit(json.dumps(fields or {}))}::jsonb, "
                f"{lit(json.dumps(sealed))}::jsonb, {lit(key_id(key)) if sealed else 'NULL'})")
    return cid
