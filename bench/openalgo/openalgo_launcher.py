#!/usr/bin/env python3
"""Runs OpenAlgo's own code for the OpenAlgo comparison benchmark (bench/openalgo/README.md), with a
broker adapter that stands in for a real one: every call succeeds and it publishes nothing (the
benchmark's publisher process sends the ticks, as an adapter's PUB would).

Run from anywhere with OpenAlgo's Python (its venv), the OpenAlgo root given by --root:

    python3 openalgo_launcher.py seed  --root R --api-key KEY [--user U --broker B]
    python3 openalgo_launcher.py proxy --root R            # websocket_proxy/server.py main()
    python3 openalgo_launcher.py host  --root R --host-script .../tickcast_host.py --control tcp://...
    python3 openalgo_launcher.py client-check --root R --port P --api-key KEY   # OpenAlgo's own client

- seed: creates auth_db's tables (only those) and stores the key with OpenAlgo's own functions
  (database.auth_db.upsert_auth for the user's broker, upsert_api_key for the Argon2 key hash), so
  both the proxy and the feed host verify it the way they would in an installation;
- proxy: OpenAlgo's WebSocketProxy, its create_broker_adapter replaced by the stand-in (the name is
  bound in websocket_proxy.server at import, so that is where it is patched);
- host: Tickcast's contrib/openalgo/tickcast_host.py, with websocket_proxy.broker_factory's
  create_broker_adapter replaced by the same stand-in.

Ports and endpoints come from the environment as OpenAlgo reads them (WEBSOCKET_PORT, ZMQ_HOST,
ZMQ_PORT), set by the runner; they are put back after OpenAlgo's imports, one of which loads the
root's .env over the environment.
"""

import argparse
import asyncio
import importlib.util
import os
import sys


class StandInAdapter:
    """What OpenAlgo's proxy and the feed host call on a broker adapter, answering success."""

    def __init__(self):
        self.connected = False
        self.subscriptions = {}

    def initialize(self, broker_name, user_id, auth_data=None, force=False):
        self.broker_name, self.user_id = broker_name, user_id
        return {"status": "success"}

    def connect(self):
        self.connected = True
        return {"status": "success"}

    def disconnect(self):
        self.connected = False
        return {"status": "success"}

    def subscribe(self, symbol, exchange, mode=2, depth_level=5):
        self.subscriptions[(exchange, symbol, mode)] = depth_level
        return {"status": "success", "actual_depth": depth_level}

    def unsubscribe(self, symbol, exchange, mode=2):
        self.subscriptions.pop((exchange, symbol, mode), None)
        return {"status": "success"}

    def unsubscribe_all(self):
        self.subscriptions.clear()
        return {"status": "success"}

    def is_auth_error(self, message):
        return False

    def clear_auth_cache_for_user(self, user_id):
        pass


def stand_in_factory(broker_name, *args, **kwargs):
    return StandInAdapter()


BENCH_ENV = ("WEBSOCKET_HOST", "WEBSOCKET_PORT", "ZMQ_HOST", "ZMQ_PORT")


def reapply(saved):
    """OpenAlgo's utils/config.py runs load_dotenv(override=True) when imported, so the root's .env
    wins over the environment: put back the ports the runner chose."""
    os.environ.update(saved)


def enter_root(root):
    root = os.path.abspath(root)
    os.chdir(root)  # OpenAlgo's sqlite URLs (sqlite:///db/openalgo.db) are relative to its root
    sys.path.insert(0, root)
    from dotenv import load_dotenv

    load_dotenv(os.path.join(root, ".env"), override=False)


def seed(args):
    from database import auth_db

    auth_db.init_db()
    auth_db.upsert_auth(args.user, "stand-in-broker-token", args.broker)
    auth_db.upsert_api_key(args.user, args.api_key)
    user = auth_db.verify_api_key(args.api_key)
    if user != args.user:
        print(f"seed: the stored key does not verify (got {user!r})", file=sys.stderr, flush=True)
        os._exit(1)
    print(f"seed: key of user {user} on broker {auth_db.get_broker_name(args.api_key)} stored", flush=True)
    # upsert_auth starts OpenAlgo's order-update listener for the broker (a thread that keeps
    # retrying a broker it cannot reach here): nothing else to wait for.
    os._exit(0)


def proxy(args):
    from websocket_proxy import server

    server.create_broker_adapter = stand_in_factory
    reapply(args.saved_env)
    asyncio.run(server.main())
    return 0


def host(args):
    from websocket_proxy import broker_factory

    broker_factory.create_broker_adapter = stand_in_factory
    reapply(args.saved_env)
    spec = importlib.util.spec_from_file_location("tickcast_host", args.host_script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(["--control", args.control, "--root", os.getcwd(), "--log-level", "WARNING"])


def client_check(args):
    """OpenAlgo's own Python WebSocket client (services/websocket_client.py, what its Flask services
    use): connect + authenticate, subscribe in Quote mode (it waits for the ack carrying its
    request_id), count market_data frames per symbol for a few seconds. Prints one JSON line."""
    import json
    import threading
    import time

    from services.websocket_client import WebSocketClient

    symbols = [{"symbol": s, "exchange": "NSE"} for s in args.symbols.split(",")]
    counts = {f"NSE:{s['symbol']}": 0 for s in symbols}
    lock = threading.Lock()

    def on_tick(data):
        key = f"{data.get('exchange')}:{data.get('symbol')}"
        with lock:
            if key in counts:
                counts[key] += 1

    client = WebSocketClient(args.api_key, host="127.0.0.1", port=args.port)
    client.register_callback("market_data", on_tick)
    out = {"connected_and_authenticated": client.connect()}
    if out["connected_and_authenticated"]:
        reply = client.subscribe(symbols, "Quote")
        out["subscribe_status"] = reply.get("status")
        out["subscribe_message"] = reply.get("message")
        out["subscribe_entries_ok"] = sum(1 for e in reply.get("subscriptions", []) if e.get("status") == "success")
        time.sleep(args.listen_s)
        with lock:
            out["ticks_per_symbol"] = dict(counts)
        cached = client.get_market_data(symbols[0]["symbol"], "NSE")
        out["cached_keys"] = sorted(cached.keys())
        out["cached_data_ltp"] = (cached.get("data") or {}).get("ltp")
    print(json.dumps(out), flush=True)
    os._exit(0)  # the client's loop thread retries forever on a closed socket; nothing to wait for


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["seed", "proxy", "host", "client-check"])
    parser.add_argument("--root", required=True, help="OpenAlgo's root (holding .env, database/, websocket_proxy/)")
    parser.add_argument("--api-key", help="seed: the key to store")
    parser.add_argument("--user", default="benchuser")
    parser.add_argument("--broker", default="zerodha")
    parser.add_argument("--host-script", help="host: path of Tickcast's contrib/openalgo/tickcast_host.py")
    parser.add_argument("--control", default="tcp://127.0.0.1:5556", help="host: the endpoint it binds")
    parser.add_argument("--port", type=int, help="client-check: the WebSocket port")
    parser.add_argument("--symbols", default="S0,S1,S500,S999", help="client-check: NSE symbols to subscribe")
    parser.add_argument("--listen-s", type=float, default=3.0, help="client-check: how long to count ticks")
    args = parser.parse_args()
    args.saved_env = {name: os.environ[name] for name in BENCH_ENV if name in os.environ}
    enter_root(args.root)
    return {"seed": seed, "proxy": proxy, "host": host, "client-check": client_check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
