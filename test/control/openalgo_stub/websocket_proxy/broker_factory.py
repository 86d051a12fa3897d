"""Stand-in for OpenAlgo's websocket_proxy/broker_factory.py with a fake adapter.

The adapter answers as OpenAlgo's adapters do ({"status": "success"|"error", "code", "message"}),
publishes ticks on a pyzmq PUB that connects to ZMQ_HOST:ZMQ_PORT for exactly what it was told to
subscribe (topic {EXCHANGE}_{SYMBOL}_{LTP|QUOTE|DEPTH}), refuses the symbol BADSYM, and appends
every call to the JSON-lines file named by STUB_ADAPTER_LOG so a test can see what reached it.
Broker "failbroker" fails initialize with an auth error (the host retries once)."""

import json
import os
import threading
import time

import zmq

MODES = {1: "LTP", 2: "QUOTE", 3: "DEPTH"}
_POOLED_ADAPTERS = {}


def _record(call, **args):
    path = os.getenv("STUB_ADAPTER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"pid": os.getpid(), "call": call, **args}) + "\n")


class FakeAdapter:
    def __init__(self, broker_name):
        self.broker_name = broker_name
        self.user_id = None
        self.connected = False
        self.subscriptions = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.context = zmq.Context.instance()
        self.socket = self.context.socket(zmq.PUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(f"tcp://{os.getenv('ZMQ_HOST', '127.0.0.1')}:{os.getenv('ZMQ_PORT', '5555')}")

    def initialize(self, broker_name, user_id, auth_data=None, force=False):
        _record("initialize", broker=broker_name, user_id=user_id)
        self.user_id = user_id
        if broker_name == "failbroker":
            return {"status": "error", "code": "AUTH_ERROR", "message": "401 Unauthorized: token expired"}
        return {"success": True, "message": "initialized"}

    def connect(self):
        _record("connect", user_id=self.user_id)
        self.connected = True
        threading.Thread(target=self._publish, daemon=True).start()
        return {"success": True, "message": "Connected"}

    def subscribe(self, symbol, exchange, mode=2, depth_level=5):
        _record("subscribe", user_id=self.user_id, symbol=symbol, exchange=exchange, mode=mode, depth=depth_level)
        if symbol == "BADSYM":
            return {"status": "error", "code": "INVALID_SYMBOL", "message": f"Symbol not found: {exchange}:{symbol}"}
        with self._lock:
            self.subscriptions[(exchange, symbol, mode)] = depth_level
        return {"status": "success", "message": "Subscribed", "symbol": symbol, "exchange": exchange, "mode": mode,
                "actual_depth": depth_level}

    def unsubscribe(self, symbol, exchange, mode=2):
        _record("unsubscribe", user_id=self.user_id, symbol=symbol, exchange=exchange, mode=mode)
        with self._lock:
            self.subscriptions.pop((exchange, symbol, mode), None)
        return {"status": "success", "message": "Unsubscribed"}

    def disconnect(self):
        _record("disconnect", user_id=self.user_id)
        self.connected = False
        self._stop.set()

    def is_auth_error(self, error_message):
        return "401" in str(error_message) or "unauthorized" in str(error_message).lower()

    def clear_auth_cache_for_user(self, user_id):
        _record("clear_auth_cache_for_user", user_id=user_id)

    def _publish(self):
        n = 0
        while not self._stop.is_set():
            n += 1
            with self._lock:
                keys = list(self.subscriptions)
            for exchange, symbol, mode in keys:
                payload = {"ltp": 100 + n, "symbol": symbol, "exchange": exchange, "mode": mode, "timestamp": int(time.time() * 1000)}
                self.socket.send_multipart([f"{exchange}_{symbol}_{MODES[mode]}".encode(), json.dumps(payload).encode()])
            self._stop.wait(0.05)
        self.socket.close(0)


def create_broker_adapter(broker_name, use_pooling=None):
    return FakeAdapter(broker_name.lower())


def cleanup_pools_for_user(user_id, broker_name=None):
    return 0
