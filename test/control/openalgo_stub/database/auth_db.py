"""Stand-in for OpenAlgo's database/auth_db.py: same names and signatures, SQLite + Argon2.

Like upstream it reads API_KEY_PEPPER and DATABASE_URL at import (so a host that forgets to load
the installation's .env fails here as it would with OpenAlgo), hashes key + pepper with Argon2, and
caches verified keys by their SHA-256."""

import hashlib
import os
import sqlite3

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

_pepper = os.getenv("API_KEY_PEPPER")
if not _pepper or len(_pepper) < 32:
    raise RuntimeError("CRITICAL: API_KEY_PEPPER environment variable is not set or shorter than 32 characters")
PEPPER = _pepper
DATABASE_URL = os.getenv("DATABASE_URL", "")
if not DATABASE_URL.startswith("sqlite:///"):
    raise RuntimeError("stand-in supports sqlite:/// DATABASE_URL only")
_path = DATABASE_URL[len("sqlite:///"):]

ph = PasswordHasher()
verified_api_key_cache = {}
invalid_api_key_cache = {}
broker_cache = {}
auth_cache = {}
feed_token_cache = {}


def _db():
    conn = sqlite3.connect(_path)
    conn.execute("CREATE TABLE IF NOT EXISTS api_keys (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, "
                 "api_key_hash TEXT NOT NULL, api_key_encrypted TEXT NOT NULL, order_mode TEXT DEFAULT 'auto')")
    conn.execute("CREATE TABLE IF NOT EXISTS auth (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, auth TEXT NOT NULL, "
                 "feed_token TEXT, broker TEXT NOT NULL, user_id TEXT, is_revoked INTEGER DEFAULT 0)")
    return conn


def upsert_auth(name, auth_token, broker, feed_token=None, user_id=None, revoke=False):
    with _db() as conn:
        conn.execute("INSERT INTO auth (name, auth, feed_token, broker, user_id, is_revoked) VALUES (?,?,?,?,?,?) "
                     "ON CONFLICT(name) DO UPDATE SET auth=excluded.auth, broker=excluded.broker, is_revoked=excluded.is_revoked",
                     (name, auth_token, feed_token, broker, user_id, 1 if revoke else 0))
    broker_cache.clear()


def upsert_api_key(user_id, api_key):
    hashed = ph.hash(api_key + PEPPER)
    with _db() as conn:
        conn.execute("INSERT INTO api_keys (user_id, api_key_hash, api_key_encrypted) VALUES (?,?,?) "
                     "ON CONFLICT(user_id) DO UPDATE SET api_key_hash=excluded.api_key_hash",
                     (user_id, hashed, "stand-in: not encrypted"))
        row = conn.execute("SELECT id FROM api_keys WHERE user_id=?", (user_id,)).fetchone()
    verified_api_key_cache.clear()
    invalid_api_key_cache.clear()
    return row[0]


def verify_api_key(provided_api_key):
    cache_key = hashlib.sha256(provided_api_key.encode()).hexdigest()
    if cache_key in invalid_api_key_cache:
        return None
    if cache_key in verified_api_key_cache:
        return verified_api_key_cache[cache_key]
    with _db() as conn:
        rows = conn.execute("SELECT user_id, api_key_hash FROM api_keys").fetchall()
    for user_id, api_key_hash in rows:
        try:
            ph.verify(api_key_hash, provided_api_key + PEPPER)
            verified_api_key_cache[cache_key] = user_id
            return user_id
        except VerifyMismatchError:
            continue
    invalid_api_key_cache[cache_key] = True
    return None


def get_username_by_apikey(provided_api_key):
    return verify_api_key(provided_api_key)


def get_broker_name(provided_api_key):
    if provided_api_key in broker_cache:
        return broker_cache[provided_api_key]
    user_id = verify_api_key(provided_api_key)
    if not user_id:
        return None
    with _db() as conn:
        row = conn.execute("SELECT broker, is_revoked FROM auth WHERE name=?", (user_id,)).fetchone()
    if not row or row[1]:
        return None
    broker_cache[provided_api_key] = row[0]
    return row[0]
