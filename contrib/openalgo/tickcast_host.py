#!/usr/bin/env python3
"""Tickcast feed host for OpenAlgo: the control channel of Tickcast's docs/control.md, served with
OpenAlgo's own code.

Run it from an OpenAlgo installation's root (the directory holding app.py and .env):

    python3 /path/to/tickcast/contrib/openalgo/tickcast_host.py --control tcp://127.0.0.1:5556

- verify: database.auth_db.verify_api_key + get_broker_name (Argon2 of key + API_KEY_PEPPER, with
  OpenAlgo's own caches);
- subscribe/unsubscribe: websocket_proxy.broker_factory.create_broker_adapter -> initialize ->
  connect on a user's first need (pooled per broker and user by OpenAlgo), with one retry on fresh
  credentials on auth errors as OpenAlgo's proxy does; then adapter.subscribe/unsubscribe;
- health: each adapter's `connected`.
The adapters publish ticks exactly as under OpenAlgo's proxy: their PUB connects to
ZMQ_HOST:ZMQ_PORT, which is now Tickcast's SUB.
"""

import argparse
import json
import logging
import os
import queue
import secrets
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

PROTOCOL = 1
log = logging.getLogger("tickcast_host")


def load_env(root):
    """Loads ROOT/.env without overriding the environment. python-dotenv's load_dotenv() without a
    path searches upward from the calling file (this one, outside OpenAlgo), so the path is explicit."""
    path = os.path.join(root, ".env")
    if not os.path.exists(path):
        return False
    try:
        from dotenv import load_dotenv
    except ImportError:
        load_dotenv = None
    if load_dotenv is not None:
        load_dotenv(dotenv_path=path, override=False)
        return True
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, value = line.split("=", 1)
            name = name.strip().removeprefix("export ").strip()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            os.environ.setdefault(name, value)
    return True


def is_error(result):
    """OpenAlgo's two answer shapes: adapters {"status": "error"}, connection pools {"success": False}."""
    return bool(result) and (result.get("status") == "error" or result.get("success") is False)


def error_message(result, fallback):
    return str(result.get("message") or result.get("error") or fallback)


AUTH_ERROR_HINTS = ("401", "403", "unauthorized", "forbidden", "authentication failed", "auth failed",
                    "invalid token", "token expired", "access denied", "invalid credentials", "session expired")


def looks_like_auth_error(message):
    lower = str(message).lower()
    return any(hint in lower for hint in AUTH_ERROR_HINTS)


class AdapterFailure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Slot:
    """One user's adapter and what it was told to subscribe."""

    def __init__(self, broker):
        self.broker = broker
        self.adapter = None
        self.subs = {}  # (exchange, symbol, mode) -> depth
        self.error = ""


class Host:
    def __init__(self, auth_db, broker_factory):
        self.auth_db = auth_db
        self.broker_factory = broker_factory
        self.epoch = secrets.token_hex(8)
        self.slots = {}  # user_id -> Slot
        self.lock = threading.Lock()
        self.workers = {}  # user_id -> single-thread executor: one user's requests stay in order
        self.verifier = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")
        self.replies = queue.Queue()

    # -- requests -------------------------------------------------------------------------------

    def handle(self, req, reply):
        """Answers `req` through `reply(dict)`, now or from a worker thread."""
        op = req.get("op")
        if op == "hello":
            reply({"ok": True, "protocol": PROTOCOL, "name": "openalgo"})
        elif op == "health":
            reply({"ok": True, "adapters": self.health()})
        elif op == "verify":
            self.verifier.submit(self._guard, reply, self.verify, req.get("api_key"))
        elif op == "invalidate":
            user_id = req.get("user_id")
            if not isinstance(user_id, str) or not user_id:
                reply({"ok": False, "code": "INVALID_PARAMETERS", "message": "user_id is required"})
                return
            self.worker(user_id).submit(self._guard, reply, self.invalidate, user_id, str(req.get("cache_type") or "ALL"))
        elif op in ("subscribe", "unsubscribe"):
            user_id, broker, items = req.get("user_id"), req.get("broker"), req.get("items")
            if not isinstance(user_id, str) or not isinstance(broker, str) or not isinstance(items, list):
                reply({"ok": False, "code": "INVALID_PARAMETERS", "message": "user_id, broker and items are required"})
                return
            fn = self.subscribe if op == "subscribe" else self.unsubscribe
            self.worker(user_id).submit(self._guard, reply, fn, user_id, broker, items)
        else:
            reply({"ok": False, "code": "UNKNOWN_OP", "message": f"unknown op {op!r}"})

    def _guard(self, reply, fn, *args):
        try:
            reply(fn(*args))
        except Exception as e:  # a host error must still answer, or Tickcast waits for its timeout
            log.exception("request failed: %s", e)
            reply({"ok": False, "code": "HOST_ERROR", "message": str(e)})

    def worker(self, user_id):
        with self.lock:
            if user_id not in self.workers:
                self.workers[user_id] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"user-{user_id}")
            return self.workers[user_id]

    def verify(self, api_key):
        if not isinstance(api_key, str) or not api_key:
            return {"ok": False, "code": "INVALID_API_KEY", "message": "API key is required"}
        user_id = self.auth_db.verify_api_key(api_key)
        if not user_id:
            return {"ok": False, "code": "INVALID_API_KEY", "message": "Invalid API key"}
        broker = self.auth_db.get_broker_name(api_key)
        if not broker:
            return {"ok": False, "code": "NO_BROKER", "message": "No broker configuration found for user"}
        return {"ok": True, "user_id": user_id, "broker": broker}

    def invalidate(self, user_id, cache_type):
        """OpenAlgo's web app re-logged a user in or regenerated a key (its CACHE_INVALIDATE_* message,
        relayed by Tickcast): clear auth_db's caches as OpenAlgo's proxy does, and rebuild the user's
        adapter on fresh credentials, giving it back what it had (OpenAlgo's proxy drops it)."""
        names = {"AUTH": ["auth_cache"], "FEED": ["feed_token_cache"],
                 "ALL": ["auth_cache", "feed_token_cache", "broker_cache", "verified_api_key_cache", "invalid_api_key_cache"]}
        for name in names.get(cache_type, names["ALL"]):
            cache = getattr(self.auth_db, name, None)
            if cache is not None:
                cache.clear()
        with self.lock:
            slot = self.slots.get(user_id)
        if slot is None or slot.adapter is None:
            return {"ok": True, "rebuilt": False}
        if not slot.subs:  # nothing to give back: drop it; the next subscribe builds a fresh one
            self._disconnect(slot)
            self._cleanup_pools(user_id, slot.broker)
            with self.lock:
                if self.slots.get(user_id) is slot:
                    del self.slots[user_id]
            return {"ok": True, "rebuilt": False}
        log.info(f"credentials of user {user_id} changed ({cache_type}): rebuilding the {slot.broker} adapter")
        self._disconnect(slot)  # ensure_adapter then rebuilds it and re-subscribes slot.subs
        self._cleanup_pools(user_id, slot.broker)
        try:
            self.ensure_adapter(user_id, slot.broker)
        except AdapterFailure as f:
            return {"ok": False, "code": f.code, "message": f.message}
        return {"ok": True, "rebuilt": True}

    def subscribe(self, user_id, broker, items):
        try:
            slot = self.ensure_adapter(user_id, broker)
        except AdapterFailure as f:
            return {"ok": False, "code": f.code, "message": f.message}
        results = []
        for item in items:
            exchange, symbol, mode, depth = item.get("exchange"), item.get("symbol"), item.get("mode"), item.get("depth", 5)
            key = (exchange, symbol, mode)
            if not exchange or not symbol or mode not in (1, 2, 3):
                results.append({"ok": False, "code": "INVALID_PARAMETERS", "message": "exchange, symbol and mode 1-3 are required"})
            elif key in slot.subs:  # idempotent: Tickcast re-sends live interest after an outage
                results.append({"ok": True, "depth": slot.subs[key]})
            else:
                results.append(self._subscribe_one(slot, key, depth))
        return {"ok": True, "results": results}

    def _subscribe_one(self, slot, key, depth):
        exchange, symbol, mode = key
        try:
            response = slot.adapter.subscribe(symbol, exchange, mode, depth) or {}
        except Exception as e:
            log.exception("adapter.subscribe failed for %s:%s: %s", exchange, symbol, e)
            return {"ok": False, "code": "SUBSCRIPTION_ERROR", "message": str(e)}
        if response.get("status") == "success":
            actual = response.get("actual_depth", depth)
            slot.subs[key] = actual
            return {"ok": True, "depth": actual}
        return {"ok": False, "code": str(response.get("code") or "SUBSCRIPTION_ERROR"),
                "message": error_message(response, "Subscription failed")}

    def unsubscribe(self, user_id, broker, items):
        with self.lock:
            slot = self.slots.get(user_id)
        results = []
        for item in items:
            key = (item.get("exchange"), item.get("symbol"), item.get("mode"))
            if slot is None or slot.adapter is None or key not in slot.subs:
                results.append({"ok": True})
                continue
            try:
                response = slot.adapter.unsubscribe(key[1], key[0], key[2]) or {}
            except Exception as e:
                log.exception("adapter.unsubscribe failed for %s:%s: %s", key[0], key[1], e)
                response = {"status": "error", "code": "UNSUBSCRIPTION_ERROR", "message": str(e)}
            del slot.subs[key]  # nobody holds it any more, whatever the adapter said
            if response.get("status") == "success":
                results.append({"ok": True})
            else:
                results.append({"ok": False, "code": str(response.get("code") or "UNSUBSCRIPTION_ERROR"),
                                "message": error_message(response, "Unsubscription failed")})
        if slot is not None and not slot.subs:
            self.release(user_id, slot)
        return {"ok": True, "results": results}

    # -- adapters -------------------------------------------------------------------------------

    def ensure_adapter(self, user_id, broker):
        """The user's connected adapter, created on first need as OpenAlgo's proxy does on
        authenticate; a cached one that disconnected, or whose broker changed, is rebuilt and
        given back what it had."""
        with self.lock:
            slot = self.slots.get(user_id)
            if slot is None:
                slot = self.slots[user_id] = Slot(broker)
        if slot.adapter is not None and slot.broker == broker and getattr(slot.adapter, "connected", False):
            return slot
        kept = dict(slot.subs) if slot.broker == broker else {}
        if slot.adapter is not None:
            log.info(f"rebuilding the {slot.broker} adapter of user {user_id} (disconnected or broker changed)")
            self._disconnect(slot)
            self._cleanup_pools(user_id, slot.broker)
        slot.broker, slot.subs, slot.adapter = broker, {}, None
        try:
            slot.adapter = self._connect(user_id, broker)
            slot.error = ""
        except AdapterFailure as f:
            slot.error = f.message
            raise
        for key, depth in kept.items():
            self._subscribe_one(slot, key, depth)
        log.info(f"{broker} adapter connected for user {user_id}")
        return slot

    def _cleanup_pools(self, user_id, broker):
        """Drops OpenAlgo's per-(broker, user) pool, so the next adapter starts on fresh credentials."""
        cleanup = getattr(self.broker_factory, "cleanup_pools_for_user", None)
        if cleanup is not None:
            try:
                cleanup(user_id, broker_name=broker)
            except Exception as e:
                log.warning(f"could not clean the connection pools of user {user_id}: {e}")

    def _connect(self, user_id, broker):
        try:
            return self._create_and_connect(user_id, broker, retry=True)
        except AdapterFailure:
            raise
        except Exception as e:
            log.exception(f"creating the {broker} adapter of user {user_id} failed: {e}")
            if not looks_like_auth_error(e):
                raise AdapterFailure("BROKER_ERROR", str(e))
            log.warning(f"auth error for user {user_id}, retrying once with fresh credentials")
            try:
                return self._create_and_connect(user_id, broker, retry=False, clear=True)
            except AdapterFailure:
                raise
            except Exception as e2:
                raise AdapterFailure("BROKER_ERROR", str(e2))

    def _create_and_connect(self, user_id, broker, retry, clear=False):
        adapter = self.broker_factory.create_broker_adapter(broker)
        if not adapter:
            raise AdapterFailure("BROKER_ERROR", f"Failed to create adapter for broker: {broker}")
        if clear and hasattr(adapter, "clear_auth_cache_for_user"):
            adapter.clear_auth_cache_for_user(user_id)
        result = adapter.initialize(broker, user_id)
        if is_error(result):
            message = error_message(result, "Failed to initialize broker adapter")
            if not (retry and looks_like_auth_error(message)):
                raise AdapterFailure("BROKER_INIT_ERROR", message)
            log.warning(f"auth error initializing the adapter of user {user_id}, retrying with a fresh token")
            if hasattr(adapter, "clear_auth_cache_for_user"):
                adapter.clear_auth_cache_for_user(user_id)
            result = adapter.initialize(broker, user_id)
            if is_error(result):
                raise AdapterFailure("BROKER_INIT_ERROR", error_message(result, "Failed to initialize after retry"))
        result = adapter.connect()
        if is_error(result):
            message = error_message(result, "Failed to connect to broker")
            code = result.get("code", "")
            if not (retry and (looks_like_auth_error(message) or code in ("CONNECTION_FAILED", "CONNECTION_ERROR")
                               or "failed to connect" in message.lower())):
                raise AdapterFailure("BROKER_CONNECTION_ERROR", message)
            log.warning(f"connection failed for user {user_id} ({message}), retrying with a fresh token")
            if hasattr(adapter, "clear_auth_cache_for_user"):
                adapter.clear_auth_cache_for_user(user_id)
            try:
                result = adapter.initialize(broker, user_id, force=True)
            except TypeError:  # plain adapters have no `force`; pooled ones do
                result = adapter.initialize(broker, user_id)
            if is_error(result):
                raise AdapterFailure("BROKER_INIT_ERROR", error_message(result, "Failed to re-initialize"))
            result = adapter.connect()
            if is_error(result):
                raise AdapterFailure("BROKER_CONNECTION_ERROR", error_message(result, "Failed to connect after retry"))
        return adapter

    def release(self, user_id, slot):
        """The user's last subscription left: as OpenAlgo's proxy does when a user's last client
        leaves, unsubscribe all (flattrade, shoonya) or disconnect and drop the adapter."""
        if slot.adapter is None:
            return
        if slot.broker in ("flattrade", "shoonya") and hasattr(slot.adapter, "unsubscribe_all"):
            try:
                slot.adapter.unsubscribe_all()
            except Exception as e:
                log.warning(f"unsubscribe_all failed for user {user_id}: {e}")
            return
        log.info(f"last subscription of user {user_id} left: disconnecting the {slot.broker} adapter")
        self._disconnect(slot)
        with self.lock:
            if self.slots.get(user_id) is slot:
                del self.slots[user_id]

    def _disconnect(self, slot):
        try:
            slot.adapter.disconnect()
        except Exception as e:
            log.warning(f"adapter.disconnect failed: {e}")
        slot.adapter = None

    def health(self):
        with self.lock:
            slots = list(self.slots.items())
        out = []
        for user_id, slot in slots:
            if slot.adapter is None:
                status, message = ("error", slot.error) if slot.error else ("disconnected", "")
            else:
                status, message = ("connected" if getattr(slot.adapter, "connected", False) else "disconnected"), ""
            out.append({"user_id": user_id, "broker": slot.broker, "status": status, "message": message})
        return out

    def shutdown(self):
        for executor in list(self.workers.values()) + [self.verifier]:
            executor.shutdown(wait=False, cancel_futures=True)
        with self.lock:
            slots = list(self.slots.values())
            self.slots.clear()
        for slot in slots:
            if slot.adapter is not None:
                self._disconnect(slot)


def serve(host, endpoint, stop):
    import zmq

    context = zmq.Context.instance()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    router.bind(endpoint)
    log.info(f"tickcast feed host listening on {endpoint} (epoch {host.epoch})")
    poller = zmq.Poller()
    poller.register(router, zmq.POLLIN)
    try:
        while not stop.is_set():
            if poller.poll(20):
                while True:
                    try:
                        frames = router.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    # [peer, "", id, request]; a REQ-less DEALER may skip the empty frame
                    if len(frames) == 4 and frames[1] == b"":
                        envelope, body = frames[:3], frames[3]
                    elif len(frames) == 3:
                        envelope, body = frames[:2], frames[2]
                    else:
                        continue
                    try:
                        req = json.loads(body)
                        if not isinstance(req, dict):
                            raise ValueError("not an object")
                    except ValueError:
                        host.replies.put((envelope, {"ok": False, "code": "BAD_REQUEST", "message": "request is not a JSON object"}))
                        continue
                    host.handle(req, lambda answer, env=envelope: host.replies.put((env, answer)))
            while True:  # replies from workers; only this thread touches the socket
                try:
                    envelope, answer = host.replies.get_nowait()
                except queue.Empty:
                    break
                answer["epoch"] = host.epoch
                router.send_multipart(envelope + [json.dumps(answer).encode()])
    finally:
        router.close(0)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Tickcast feed host for OpenAlgo (see Tickcast's docs/openalgo.md)")
    parser.add_argument("--control", default=os.getenv("TICKCAST_CONTROL", "tcp://127.0.0.1:5556"),
                        help="endpoint to bind for Tickcast's control channel (env TICKCAST_CONTROL)")
    parser.add_argument("--root", default=os.getcwd(), help="OpenAlgo installation root (default: current directory)")
    parser.add_argument("--log-level", default=os.getenv("TICKCAST_HOST_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)

    root = os.path.abspath(args.root)
    # OpenAlgo's modules import each other as top-level packages (database, utils, websocket_proxy).
    sys.path.insert(0, root)
    if not load_env(root):
        print(f"tickcast_host: no .env in {root}; run it from OpenAlgo's root or pass --root", file=sys.stderr)
    # Importing OpenAlgo's utils.logging configures the root logger with its own handlers and
    # filters (which stringify arguments): log with f-strings or %s only.
    from database import auth_db
    from websocket_proxy import broker_factory

    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log.setLevel(args.log_level.upper())

    host = Host(auth_db, broker_factory)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve(host, args.control, stop)
    finally:
        host.shutdown()
        log.info("tickcast feed host stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
