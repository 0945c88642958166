#!/usr/bin/python3
"""hostile.py — hostile clients for voxd (t_server_hostile.sh): each mode plays one attack on
loopback for a bounded time and prints what it observed, one 'key value' per line.

  h2-window0 PORT SECS      10 h2 streams, SETTINGS_INITIAL_WINDOW_SIZE 0, never WINDOW_UPDATE
  h1-noread PORT SECS       6 HTTP/1.1 connections POST long audio and never read
  h1-trickle PORT SECS      one connection reads 64 KiB every 1.5 s
  h1-pipeline PORT SECS     1,000 pipelined requests, nothing read
  h2-open PORT SECS         HEADERS without END_STREAM, then silence: when is the stream reset?
Each prints 'closed_after S' (seconds until the server closed the connection, or -1).
"""
import json, socket, sys, time

LONG = json.dumps({"input": "No. " * 1024, "sentence_silence": 5, "response_format": "pcm"})


def h1_post(body, path="/v1/audio/speech"):
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def sock(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s


def closed(s, timeout=0.0):
    """True when the peer closed (EOF or reset); reads and discards what is there."""
    s.settimeout(timeout)
    try:
        d = s.recv(65536)
        return d == b""
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


def peer_gone(s):
    """Without reading data: is the connection reset/closed? (poll for HUP/ERR)"""
    import select
    p = select.poll()
    p.register(s, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    ev = p.poll(0)
    return bool(ev)


def h1_noread(port, secs, n=6):
    conns = [sock(port, rcvbuf=4096) for _ in range(n)]
    for s in conns:
        s.sendall(h1_post(LONG))
    t0 = time.time()
    gone_at = -1
    while time.time() - t0 < secs:
        if all(peer_gone(s) for s in conns):
            gone_at = time.time() - t0
            break
        time.sleep(0.2)
    print("closed_after %.1f" % gone_at)


def h1_trickle(port, secs):
    s = sock(port, rcvbuf=4096)
    s.sendall(h1_post(LONG))
    t0 = time.time()
    gone_at = -1
    got = 0
    while time.time() - t0 < secs:
        time.sleep(1.5)
        s.settimeout(0.5)
        want = 65536
        try:
            while want > 0:
                d = s.recv(min(want, 65536))
                if not d:
                    raise ConnectionResetError
                got += len(d)
                want -= len(d)
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            gone_at = time.time() - t0
            break
    print("read %d" % got)
    print("closed_after %.1f" % gone_at)


def h1_pipeline(port, secs):
    s = sock(port, rcvbuf=4096)
    body = json.dumps({"input": "Pipelined request number one. And two.", "response_format": "pcm"})
    req = h1_post(body)
    s.setblocking(False)
    data = req * 1000
    t0 = time.time()
    off = 0
    while off < len(data) and time.time() - t0 < secs / 2:
        try:
            off += s.send(data[off:off + 65536])
        except BlockingIOError:
            time.sleep(0.05)
        except (ConnectionResetError, BrokenPipeError):
            break
    print("sent_requests %d" % (off // len(req)))
    gone_at = -1
    while time.time() - t0 < secs:
        if peer_gone(s):
            gone_at = time.time() - t0
            break
        time.sleep(0.2)
    print("closed_after %.1f" % gone_at)


def h2_conn(port, window=None):
    import h2.config, h2.connection, h2.settings
    s = sock(port, rcvbuf=65536)
    cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    c = h2.connection.H2Connection(config=cfg)
    c.initiate_connection()
    if window is not None:
        c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
    s.sendall(c.data_to_send())
    return s, c


def h2_events(s, c, timeout):
    """Read for up to `timeout`: (events, closed). Nothing is acknowledged by WINDOW_UPDATE."""
    s.settimeout(timeout)
    try:
        d = s.recv(65536)
    except socket.timeout:
        return [], False
    except (ConnectionResetError, BrokenPipeError):
        return [], True
    if not d:
        return [], True
    try:
        ev = c.receive_data(d)
    except Exception:
        ev = []
    out = c.data_to_send()
    if out:
        try:
            s.sendall(out)
        except OSError:
            pass
    return ev, False


def h2_window0(port, secs, n=10):
    import h2.events
    s, c = h2_conn(port, window=0)
    for i in range(n):
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, [(":method", "POST"), (":path", "/v1/audio/speech"),
                             (":scheme", "http"), (":authority", "x"),
                             ("content-type", "application/json")])
        c.send_data(sid, LONG.encode(), end_stream=True)
    s.sendall(c.data_to_send())
    t0 = time.time()
    gone_at = -1
    goaway = 0
    resets = 0
    while time.time() - t0 < secs:
        ev, cl = h2_events(s, c, 0.5)
        for e in ev:
            if isinstance(e, h2.events.ConnectionTerminated):
                goaway = 1
            if isinstance(e, h2.events.StreamReset):
                resets += 1
        if cl:
            gone_at = time.time() - t0
            break
    print("goaway %d" % goaway)
    print("resets %d" % resets)
    print("closed_after %.1f" % gone_at)


def h2_open(port, secs):
    import h2.events
    s, c = h2_conn(port)
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, [(":method", "POST"), (":path", "/v1/audio/speech"),
                         (":scheme", "http"), (":authority", "x")])
    s.sendall(c.data_to_send())
    t0 = time.time()
    reset_at = -1
    gone_at = -1
    while time.time() - t0 < secs:
        ev, cl = h2_events(s, c, 0.5)
        for e in ev:
            if isinstance(e, h2.events.StreamReset) and reset_at < 0:
                reset_at = time.time() - t0
        if cl:
            gone_at = time.time() - t0
            break
    print("reset_after %.1f" % reset_at)
    print("closed_after %.1f" % gone_at)


if __name__ == "__main__":
    mode, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    {"h2-window0": h2_window0, "h1-noread": h1_noread, "h1-trickle": h1_trickle,
     "h1-pipeline": h1_pipeline, "h2-open": h2_open}[mode](port, secs)
    sys.stdout.flush()
