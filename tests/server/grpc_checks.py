#!/usr/bin/python3
"""gRPC checks against a running voxd (t_server_grpc.sh starts it), with a real client:
python3-grpcio for the calls, python3-h2 where the test must control the wire itself
(flow-control windows, raw grpc-timeout, trailers-only frames, broken framing).

  grpc_checks.py STUBS PORT GROUP [--tls CERT] [--key KEY] [--dir DIR]

STUBS: a directory with the generated vox/v1/speech_pb2*.py and vox_health_pb2*.py.
GROUP: basic | auth | busy | slow | flow. Prints one "ok   - ..." or "FAIL - ..." line
per check (t_server_grpc.sh counts them); exits 1 if any failed.
"""
import argparse
import socket
import ssl
import sys
import threading
import time
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("stubs")
ap.add_argument("port", type=int)
ap.add_argument("group")
ap.add_argument("--tls")
ap.add_argument("--key")
ap.add_argument("--dir", help="files the shell made over HTTP to compare with")
ap.add_argument("--pid", type=int, help="drain: the server's pid")
args = ap.parse_args()
sys.path.insert(0, args.stubs)

import grpc  # noqa: E402
import h2.connection  # noqa: E402
import h2.config  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402
import vox_health_pb2 as hp  # noqa: E402
import vox_health_pb2_grpc as hg  # noqa: E402
from vox.v1 import speech_pb2 as pb  # noqa: E402
from vox.v1 import speech_pb2_grpc as pg  # noqa: E402

FAILS = 0
TAG = "tls" if args.tls else "h2c"


def check(desc, cond, extra=""):
    global FAILS
    if cond:
        print(f"ok   - [{TAG}] {desc}")
    else:
        FAILS += 1
        print(f"FAIL - [{TAG}] {desc} {extra}")
    sys.stdout.flush()


def channel(compression=None):
    target = f"127.0.0.1:{args.port}"
    if args.tls:
        creds = grpc.ssl_channel_credentials(open(args.tls, "rb").read())
        return grpc.secure_channel(target, creds, compression=compression)
    return grpc.insecure_channel(target, compression=compression)


def metadata():
    return (("authorization", "Bearer " + args.key),) if args.key else None


def metric(name):
    scheme = "https" if args.tls else "http"
    ctx = ssl._create_unverified_context() if args.tls else None
    txt = urllib.request.urlopen(f"{scheme}://127.0.0.1:{args.port}/metrics", context=ctx,
                                 timeout=5).read().decode()
    for line in txt.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def rpc_error(fn):
    """(code, details, trailing metadata dict) of a call expected to fail; None if it did not."""
    try:
        fn()
    except grpc.RpcError as e:
        return e.code(), e.details() or "", dict(e.trailing_metadata() or ())
    return None


def synth(stub, timeout=30, **kw):
    return list(stub.Synthesize(pb.SynthesizeRequest(**kw), timeout=timeout, metadata=metadata()))


TEXT = "One two. Three four five! Six?"   # stub: 8 + 16 + 4 bytes -> 8960 bytes of pcm


# ------------------------------------------------------------ raw HTTP/2 (python3-h2)
class Raw:
    """One HTTP/2 connection whose windows the test controls (h2 never opens them by itself)."""

    def __init__(self, window=65535):
        s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        if args.tls:
            ctx = ssl.create_default_context(cafile=args.tls)
            ctx.set_alpn_protocols(["h2"])
            s = ctx.wrap_socket(s, server_hostname="localhost")
        self.s = s
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.h2.initiate_connection()
        self.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.data = {}
        self.headers, self.trailers, self.ended, self.reset = {}, {}, set(), set()

    def flush(self):
        out = self.h2.data_to_send()
        if out:
            self.s.sendall(out)

    def call(self, path, msgs, hdrs=(), end=True):
        sid = self.h2.get_next_available_stream_id()
        h = [(":method", "POST"), (":scheme", "https" if args.tls else "http"),
             (":path", path), (":authority", "localhost"), ("content-type", "application/grpc"),
             ("te", "trailers")] + list(hdrs)
        if args.key:
            h.append(("authorization", "Bearer " + args.key))
        self.h2.send_headers(sid, h)
        body = b"".join(b"\0" + len(m).to_bytes(4, "big") + m for m in msgs)
        if body or end:
            self.h2.send_data(sid, body, end_stream=end)
        self.flush()
        self.data[sid] = b""
        return sid

    def pump(self, secs, until=None, ack=True):
        """Read events for up to secs (until(self) is true); ack: open windows as data arrives."""
        end = time.time() + secs
        while time.time() < end and not (until and until(self)):
            self.s.settimeout(max(0.01, min(0.2, end - time.time())))
            try:
                d = self.s.recv(65536)
            except (socket.timeout, ssl.SSLError):
                continue
            if not d:
                break
            for ev in self.h2.receive_data(d):
                if isinstance(ev, h2.events.ResponseReceived):
                    self.headers[ev.stream_id] = dict(ev.headers)
                elif isinstance(ev, h2.events.TrailersReceived):
                    self.trailers[ev.stream_id] = dict(ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    self.data[ev.stream_id] = self.data.get(ev.stream_id, b"") + ev.data
                    if ack:
                        self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    self.ended.add(ev.stream_id)
                elif isinstance(ev, h2.events.StreamReset):
                    self.reset.add(ev.stream_id)
            self.flush()

    def status(self, sid):
        """grpc-status/-message from the trailers, or from a trailers-only HEADERS frame."""
        t = self.trailers.get(sid) or self.headers.get(sid) or {}
        st = t.get(b"grpc-status")
        return (int(st) if st is not None else None), t.get(b"grpc-message", b"").decode()

    def close(self):
        self.s.close()


def frames(b):
    out = []
    while len(b) >= 5:
        n = int.from_bytes(b[1:5], "big")
        out.append(b[5:5 + n])
        b = b[5 + n:]
    return out


# ------------------------------------------------------------ groups
def group_basic():
    ch = channel()
    st = pg.SpeechStub(ch)
    hs = hg.HealthStub(ch)
    r = hs.Check(hp.HealthCheckRequest(), timeout=10)
    check("Health/Check: SERVING", r.status == hp.HealthCheckResponse.SERVING)
    r = hs.Check(hp.HealthCheckRequest(service="vox.v1.Speech"), timeout=10)
    check("Health/Check vox.v1.Speech: SERVING", r.status == hp.HealthCheckResponse.SERVING)
    e = rpc_error(lambda: hs.Check(hp.HealthCheckRequest(service="nope"), timeout=10))
    check("Health/Check unknown service: NOT_FOUND", e and e[0] == grpc.StatusCode.NOT_FOUND, e)
    w = hs.Watch(hp.HealthCheckRequest(), timeout=10)
    first = next(w)
    check("Health/Watch: first message SERVING, stream stays open",
          first.status == hp.HealthCheckResponse.SERVING and w.is_active())
    w.cancel()

    lv = st.ListVoices(pb.ListVoicesRequest(), timeout=10, metadata=metadata())
    names = {v.name: v for v in lv.voices}
    d = names.get("espeak:en-us")
    check("ListVoices: the loaded default voice with kind, rate and speakers",
          d is not None and d.kind == "stub" and d.sample_rate == 16000 and
          list(d.speakers) == ["speaker0", "speaker1", "speaker2"], lv)
    x = names.get("xx-fake-low")
    check("ListVoices: a --data-dir voice, not loaded, with its config's speakers",
          x is not None and x.language == "xx" and x.quality == "low" and
          list(x.speakers) == ["amy", "bob"], lv)

    chunks = synth(st, text=TEXT, sample_rate=16000)
    audio = b"".join(c.audio for c in chunks)
    want = open(f"{args.dir}/http.pcm", "rb").read()
    check("Synthesize PCM_S16LE: audio equals HTTP pcm for the same request",
          audio == want and len(audio) == 8960, f"{len(audio)} vs {len(want)}")
    check("Synthesize: every chunk at 16000 Hz, only the final one has last=true (and no audio)",
          all(c.sample_rate == 16000 for c in chunks) and chunks[-1].last and
          not chunks[-1].audio and not any(c.last for c in chunks[:-1]))
    idx = [c.sentence_index for c in chunks if c.audio]
    check("Synthesize: sentence_index never goes back", idx == sorted(idx), idx)
    check("Synthesize: no word timings from this backend (words empty even when asked)",
          not any(c.words for c in synth(st, text=TEXT, timings=True)))
    big = synth(st, text=("A" * 300 + ". ") * 3, sample_rate=16000)
    check("Synthesize: a long sentence comes in AudioChunks of at most 64 KiB",
          max(len(c.audio) for c in big) <= 65536 and
          sum(len(c.audio) for c in big) == 3 * 301 * 320)
    fmts = {"WAV": "wav", "MP3": "mp3", "OPUS": "opus", "FLAC": "flac", "AAC": "aac"}
    for f, ext in fmts.items():
        got = b"".join(c.audio for c in synth(st, text=TEXT, format=pb.AudioFormat.Value(f)))
        try:
            want = open(f"{args.dir}/http.{ext}", "rb").read()
        except FileNotFoundError:
            want = None
        check(f"Synthesize {f}: the same bytes as HTTP streaming the same request",
              want is not None and got == want and len(got) > 0,
              f"{len(got)} vs {len(want or b'')}")

    # HTTP (OpenAI's formats) has no f32: the s16 reference, as floats
    import array
    got = array.array("f", b"".join(c.audio for c in synth(st, text=TEXT, sample_rate=16000,
                                                         format=pb.PCM_F32LE)))
    ref = array.array("h", open(f"{args.dir}/http.pcm", "rb").read())
    check("Synthesize PCM_F32LE: the HTTP pcm samples as floats",
          len(got) == len(ref) and all(abs(g - r / 32768.0) < 1e-4 for g, r in zip(got, ref)),
          f"{len(got)} vs {len(ref)}")

    def inv(field, **kw):
        e = rpc_error(lambda: synth(st, **kw))
        check(f"INVALID_ARGUMENT naming '{field}'",
              e and e[0] == grpc.StatusCode.INVALID_ARGUMENT and e[1].startswith(field + ":"), e)
    inv("text", text="")
    inv("speed", text="Hi.", speed=-1)
    inv("sample_rate", text="Hi.", sample_rate=5)
    inv("format", text="Hi.", format=42)
    inv("speaker", text="Hi.", speaker="nobody")
    inv("text", text="   ")
    e = rpc_error(lambda: synth(st, text="Hi.", voice="nope:zz"))
    check("unknown voice: NOT_FOUND naming 'voice'",
          e and e[0] == grpc.StatusCode.NOT_FOUND and e[1].startswith("voice:"), e)
    e = rpc_error(lambda: synth(st, text="x" * (1 << 21)))
    check("a 2 MiB message: RESOURCE_EXHAUSTED (limit 1 MiB)",
          e and e[0] == grpc.StatusCode.RESOURCE_EXHAUSTED and "limit" in e[1], e)
    nope = ch.unary_unary("/vox.v1.Speech/Nope")
    e = rpc_error(lambda: nope(b"", timeout=10))
    check("unknown method: UNIMPLEMENTED", e and e[0] == grpc.StatusCode.UNIMPLEMENTED, e)
    gz = pg.SpeechStub(channel(compression=grpc.Compression.Gzip))
    e = rpc_error(lambda: synth(gz, text="Hi."))
    check("gzip-compressed request: UNIMPLEMENTED, said cleanly",
          e and e[0] == grpc.StatusCode.UNIMPLEMENTED and "identity" in e[1], e)
    check("after all that the server still answers", len(synth(st, text="Hi.")) >= 2)

    idx = [c.sentence_index for c in chunks if c.audio]
    check("Synthesize: one chunk per sentence here, sentence_index 0, 1, 2", idx == [0, 1, 2], idx)
    group_stream(st)

    # raw HTTP/2: the wire forms grpcio hides
    r = Raw()
    good = pb.SynthesizeRequest(text=TEXT, sample_rate=16000).SerializeToString()
    s1 = r.call("/vox.v1.Speech/Synthesize", [good])
    s2 = r.call("/vox.v1.Speech/Synthesize", [pb.SynthesizeRequest(text="Hi.", voice="nope:zz").SerializeToString()])
    s3 = r.call("/vox.v1.Speech/Synthesize", [b"\xff\xff\xff"])
    s4 = r.call("/vox.v1.Speech/Synthesize", [good, good])
    s5 = r.call("/vox.v1.Speech/Synthesize", [], hdrs=[("grpc-timeout", "abc")])
    sid_trunc = r.h2.get_next_available_stream_id()
    r.h2.send_headers(sid_trunc, [(":method", "POST"), (":scheme", "https" if args.tls else "http"),
                                  (":path", "/vox.v1.Speech/Synthesize"), (":authority", "x"),
                                  ("content-type", "application/grpc+proto")] +
                      ([("authorization", "Bearer " + args.key)] if args.key else []))
    r.h2.send_data(sid_trunc, b"\0\0\0\0\x10abc", end_stream=True)
    r.flush()
    r.pump(10, until=lambda x: {s1, s2, s3, s4, s5, sid_trunc} <= x.ended)
    pcm = open(f"{args.dir}/http.pcm", "rb").read()
    check("raw: Synthesize ends with trailers grpc-status 0 after the messages",
          r.status(s1)[0] == 0 and s1 in r.trailers and
          b"".join(pb.AudioChunk.FromString(m).audio for m in frames(r.data[s1])) == pcm)
    check("raw: response headers say content-type application/grpc",
          r.headers.get(s1, {}).get(b"content-type") == b"application/grpc")
    check("raw: an error before any audio is trailers-only (one HEADERS, status 5, no DATA)",
          r.status(s2)[0] == 5 and s2 not in r.trailers and not r.data.get(s2), r.status(s2))
    check("raw: a message that is not protobuf: INVALID_ARGUMENT",
          r.status(s3)[0] == 3 and "request" in r.status(s3)[1], r.status(s3))
    check("raw: two messages on a unary call: INVALID_ARGUMENT", r.status(s4)[0] == 3, r.status(s4))
    check("raw: malformed grpc-timeout: INVALID_ARGUMENT naming it",
          r.status(s5)[0] == 3 and "grpc-timeout" in r.status(s5)[1], r.status(s5))
    check("raw: a stream that ends inside a message: INVALID_ARGUMENT",
          r.status(sid_trunc)[0] == 3 and "inside a message" in r.status(sid_trunc)[1],
          r.status(sid_trunc))
    r.close()


def stream_call(st, pieces, gate=None, timeout=30):
    """SynthesizeStream: config then text pieces; gate(i): wait before sending piece i.
    Returns (chunks, error or None)."""
    def gen():
        for i, p in enumerate(pieces):
            if gate:
                gate(i)
            yield p
    chunks = []
    try:
        for c in st.SynthesizeStream(gen(), timeout=timeout, metadata=metadata()):
            chunks.append(c)
            first_audio.set()
    except grpc.RpcError as e:
        return chunks, (e.code(), e.details() or "")
    return chunks, None


first_audio = threading.Event()


def group_stream(st):
    cfg = pb.TextChunk(config=pb.SynthesizeRequest(sample_rate=16000))
    first_audio.clear()
    waited = {}

    def gate(i):
        if i == 2:   # the last text piece: only once audio of the first sentence is back
            waited["audio_before_last"] = first_audio.wait(10)
    chunks, err = stream_call(st, [cfg, pb.TextChunk(text="One two. Thr"),
                                   pb.TextChunk(text="ee four five! Six?")], gate)
    audio = b"".join(c.audio for c in chunks)
    check("SynthesizeStream: text split mid-sentence; first audio before the last text message",
          err is None and waited.get("audio_before_last") is True, (err, waited))
    check("SynthesizeStream: the audio equals HTTP pcm of the whole text",
          audio == open(f"{args.dir}/http.pcm", "rb").read(), len(audio))
    idx = [c.sentence_index for c in chunks if c.audio]
    check("SynthesizeStream: sentence_index 0, 1, 2 and a final last=true",
          idx == [0, 1, 2] and chunks[-1].last, idx)
    first_audio.clear()
    chunks, err = stream_call(st, [pb.TextChunk(config=pb.SynthesizeRequest(text="Hel", sample_rate=16000,
                                                                             format=pb.WAV))] +
                              [pb.TextChunk(text=ch) for ch in "lo wor"] +
                              [pb.TextChunk(text="ld. And é"[:9]), pb.TextChunk(text="é!")])
    wav = b"".join(c.audio for c in chunks)
    check("SynthesizeStream: config's text is the first piece, byte-sized pieces, WAV header first",
          err is None and wav[:4] == b"RIFF" and len(wav) == 44 + (len("Hello world.") + len("And éé!".encode())) * 320,
          (err, len(wav)))

    def bad(desc, pieces, code, field):
        _, e = stream_call(st, pieces)
        check(f"SynthesizeStream {desc}: {code.name} naming '{field}'",
              e and e[0] == code and e[1].startswith(field + ":"), e)
    bad("first message without config", [pb.TextChunk(text="Hi.")],
        grpc.StatusCode.INVALID_ARGUMENT, "config")
    bad("config twice", [cfg, pb.TextChunk(text="Hi."), cfg], grpc.StatusCode.INVALID_ARGUMENT, "config")
    bad("no text at all", [cfg], grpc.StatusCode.INVALID_ARGUMENT, "text")
    bad("no messages at all", [], grpc.StatusCode.INVALID_ARGUMENT, "config")
    bad("bad config field", [pb.TextChunk(config=pb.SynthesizeRequest(speed=-2))],
        grpc.StatusCode.INVALID_ARGUMENT, "speed")
    bad("unknown voice", [pb.TextChunk(config=pb.SynthesizeRequest(voice="nope:zz")),
                          pb.TextChunk(text="Hi.")], grpc.StatusCode.NOT_FOUND, "voice")
    bad("past --max-input (4096 characters)", [cfg] + [pb.TextChunk(text="a" * 1000)] * 5,
        grpc.StatusCode.INVALID_ARGUMENT, "text")


def group_auth():
    key = args.key
    args.key = None
    st = pg.SpeechStub(channel())
    e = rpc_error(lambda: synth(st, text="Hi."))
    check("API key set, none sent: UNAUTHENTICATED",
          e and e[0] == grpc.StatusCode.UNAUTHENTICATED, e)
    args.key = "wrong"
    e = rpc_error(lambda: st.ListVoices(pb.ListVoicesRequest(), metadata=metadata(), timeout=10))
    check("wrong key: UNAUTHENTICATED", e and e[0] == grpc.StatusCode.UNAUTHENTICATED, e)
    args.key = key
    check("right key: audio", sum(len(c.audio) for c in synth(st, text=TEXT)) == 8960)
    r = hg.HealthStub(channel()).Check(hp.HealthCheckRequest(), timeout=10)
    check("health needs no key (Kubernetes probes)", r.status == hp.HealthCheckResponse.SERVING)


def group_busy():
    # --queue 1, 300 ms a sentence: one call in flight fills the queue
    st = pg.SpeechStub(channel())
    first = st.Synthesize(pb.SynthesizeRequest(text="One. Two. Three."), timeout=30)
    next(first)
    e = rpc_error(lambda: synth(st, text="Hi."))
    check("queue full: RESOURCE_EXHAUSTED with grpc-retry-pushback-ms",
          e and e[0] == grpc.StatusCode.RESOURCE_EXHAUSTED and
          e[2].get("grpc-retry-pushback-ms") == "1000", e)
    rest = list(first)
    check("the call in flight completes", rest and rest[-1].last)


def group_slow():
    # 300 ms a sentence
    st = pg.SpeechStub(channel())
    t0 = metric("vox_timeouts_total")
    e = rpc_error(lambda: synth(st, timeout=0.5, text="One. Two. Three. Four. Five. Six."))
    check("deadline exceeded (client side)", e and e[0] == grpc.StatusCode.DEADLINE_EXCEEDED, e)
    # the server's own enforcement: grpc-timeout on the wire, no client-side deadline
    r = Raw()
    sid = r.call("/vox.v1.Speech/Synthesize",
                 [pb.SynthesizeRequest(text="One. Two. Three. Four. Five. Six.").SerializeToString()],
                 hdrs=[("grpc-timeout", "700m")])
    t = time.time()
    r.pump(10, until=lambda x: sid in x.ended)
    el = time.time() - t
    got = r.status(sid)
    check("grpc-timeout 700m: the server ends the call with DEADLINE_EXCEEDED after some audio",
          got[0] == 4 and 0.6 < el < 2.5 and len(r.data.get(sid, b"")) > 0, (got, el))
    r.close()
    check("metrics count the timeouts", metric("vox_timeouts_total") >= t0 + 1)

    c0 = metric("vox_cancelled_total")
    s0 = metric("vox_synthesis_seconds_total")
    call = st.Synthesize(pb.SynthesizeRequest(text=" ".join(f"Sentence {i}." for i in range(40))),
                         timeout=60)
    first = next(call)
    call.cancel()
    time.sleep(1.0)
    c1 = metric("vox_cancelled_total")
    inflight = metric("vox_in_flight")
    s1 = metric("vox_synthesis_seconds_total")
    time.sleep(1.0)
    s2 = metric("vox_synthesis_seconds_total")
    check("cancel mid-stream: vox_cancelled_total counts it, nothing in flight",
          first.audio and c1 == c0 + 1 and inflight == 0, (c0, c1, inflight))
    check("cancel mid-stream: synthesis stopped (40 sentences would take 6 s)",
          s2 == s1 and s1 - s0 < 3.0, (s0, s1, s2))

    # the same for SynthesizeStream, with the client's text stream still open
    more = threading.Event()

    def pieces():
        yield pb.TextChunk(config=pb.SynthesizeRequest())
        yield pb.TextChunk(text=" ".join(f"Sentence {i}." for i in range(40)))
        more.wait(10)
    c0 = metric("vox_cancelled_total")
    call = st.SynthesizeStream(pieces(), timeout=60)
    first = next(call)
    call.cancel()
    more.set()
    time.sleep(1.0)
    s1 = metric("vox_synthesis_seconds_total")
    time.sleep(1.0)
    check("SynthesizeStream cancelled mid-stream: counted, nothing in flight, synthesis stopped",
          first.audio and metric("vox_cancelled_total") == c0 + 1 and
          metric("vox_in_flight") == 0 and metric("vox_synthesis_seconds_total") == s1)


def group_flow():
    # 20 ms a sentence, 2 workers. 200 sentences of 20 bytes -> 6400 bytes each, 1.28 MB.
    text = " ".join(f"Sentence {i:04d} ok." for i in range(200))
    s0 = metric("vox_synthesis_seconds_total")
    r = Raw(window=65535)
    sid = r.call("/vox.v1.Speech/Synthesize",
                 [pb.SynthesizeRequest(text=text, sample_rate=16000).SerializeToString()])
    r.pump(2.0, ack=False)   # a reader that reads nothing: no window updates
    s1 = metric("vox_synthesis_seconds_total")
    time.sleep(1.5)
    s2 = metric("vox_synthesis_seconds_total")
    got0 = len(r.data.get(sid, b""))
    check("flow: a reader that opens no window gets only its window's worth",
          0 < got0 <= 65535 + 100, got0)
    check("flow: synthesis paused (no work for 1.5 s), far short of the whole text (4 s of work)",
          s2 == s1 and s1 - s0 < 2.0 and sid not in r.ended, (s0, s1, s2))
    r.h2.acknowledge_received_data(got0, sid) if got0 else None
    r.h2.increment_flow_control_window(8 << 20)
    r.h2.increment_flow_control_window(8 << 20, sid)
    r.flush()
    r.pump(30, until=lambda x: sid in x.ended)
    audio = b"".join(pb.AudioChunk.FromString(m).audio for m in frames(r.data.get(sid, b"")))
    r.close()
    # a reader that never reads, with a deadline: the call must not stay stuck behind its
    # shut window (its trailers cannot pass): the server resets the stream
    t0 = metric("vox_timeouts_total")
    r2 = Raw(window=65535)
    sid2 = r2.call("/vox.v1.Speech/Synthesize",
                   [pb.SynthesizeRequest(text=text, sample_rate=16000).SerializeToString()],
                   hdrs=[("grpc-timeout", "1S")])
    t = time.time()
    r2.pump(6, until=lambda x: sid2 in x.reset or sid2 in x.ended, ack=False)
    check("flow: deadline with a shut window: the stream is reset (RST_STREAM) about then",
          sid2 in r2.reset and time.time() - t < 3 and metric("vox_timeouts_total") == t0 + 1,
          (time.time() - t, sid2 in r2.reset, sid2 in r2.ended))
    r2.close()
    whole = b"".join(c.audio for c in synth(pg.SpeechStub(channel()), text=text, sample_rate=16000))
    check("flow: once read, the whole audio (as an unhindered call gets it) and grpc-status 0",
          audio == whole and len(whole) > 1000000 and r.status(sid)[0] == 0,
          (len(audio), len(whole), r.status(sid)))


def group_drain():
    import os
    import signal
    w = hg.HealthStub(channel()).Watch(hp.HealthCheckRequest(service="vox.v1.Speech"), timeout=20)
    first = next(w)
    os.kill(args.pid, signal.SIGTERM)
    rest = list(w)   # ends without an error: status OK
    check("Health/Watch: SERVING, then NOT_SERVING when the server drains, then the call ends OK",
          first.status == hp.HealthCheckResponse.SERVING and
          [m.status for m in rest] == [hp.HealthCheckResponse.NOT_SERVING], rest)
    t = time.time()
    while time.time() - t < 10:
        try:
            os.kill(args.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    check("the open Watch does not hold the drain: voxd exits at once", time.time() - t < 3,
          time.time() - t)


def group_quiet():
    # voxd --header-timeout 1, 300 ms a sentence: HTTP/2's per-stream request timeout must not
    # cut a gRPC call whose request is complete, nor a text stream that pauses (an LLM thinking)
    st = pg.SpeechStub(channel())
    text = "One. Two. Three. Four. Five. Six."
    try:
        audio = b"".join(c.audio for c in synth(st, text=text, sample_rate=16000))
        err = None
    except grpc.RpcError as e:
        audio, err = b"", (e.code(), e.details())
    check("unary Synthesize running past --header-timeout completes", err is None and len(audio) > 0,
          (err, len(audio)))
    chunks, err = stream_call(st, [pb.TextChunk(config=pb.SynthesizeRequest(sample_rate=16000)),
                                   pb.TextChunk(text="One two. "), pb.TextChunk(text="Three.")],
                              gate=lambda i: time.sleep(2.5) if i == 2 else None)
    idx = sorted({c.sentence_index for c in chunks if c.audio})
    check("SynthesizeStream pausing 2.5 s between text messages (--header-timeout 1) completes",
          err is None and idx == [0, 1], (err, idx))


{"basic": group_basic, "drain": group_drain, "quiet": group_quiet, "auth": group_auth, "busy": group_busy, "slow": group_slow,
 "flow": group_flow}[args.group]()
sys.exit(1 if FAILS else 0)
