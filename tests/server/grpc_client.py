#!/usr/bin/python3
"""A small vox.v1.Speech client (python3-grpcio), the one README's gRPC section shows.

  grpc_client.py [--target HOST:PORT] [--tls CA.pem] [--key API_KEY] voices
  grpc_client.py ... speak "Text." [--voice V] [--format WAV] [--rate 16000] -o out.wav
  grpc_client.py ... stream [--voice V] [--format PCM_S16LE] -o out.pcm   < text (sent line by line)
  grpc_client.py ... health

It generates the Python stubs from proto/ into a temporary directory with grpc_tools.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto")


def stubs():
    d = tempfile.mkdtemp(prefix="vox-grpc-")
    # the health proto under another module name (python's `grpc` package owns grpc.*)
    with open(os.path.join(ROOT, "grpc/health/v1/health.proto")) as f, \
            open(os.path.join(d, "vox_health.proto"), "w") as g:
        g.write(f.read())
    subprocess.check_call([sys.executable, "-m", "grpc_tools.protoc", "-I" + d, "-I" + ROOT,
                           "--python_out=" + d, "--grpc_python_out=" + d,
                           os.path.join(d, "vox_health.proto"),
                           os.path.join(ROOT, "vox/v1/speech.proto")])
    sys.path.insert(0, d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:5500")
    ap.add_argument("--tls", help="CA certificate: connect with TLS")
    ap.add_argument("--key", help="API key (voxd --api-key)")
    ap.add_argument("cmd", choices=["voices", "speak", "stream", "health"])
    ap.add_argument("text", nargs="?")
    ap.add_argument("--voice", default="")
    ap.add_argument("--format", default="PCM_S16LE")
    ap.add_argument("--rate", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("-o", "--out", default="-")
    a = ap.parse_args()
    stubs()
    import grpc
    import vox_health_pb2 as hp
    import vox_health_pb2_grpc as hg
    from vox.v1 import speech_pb2 as pb, speech_pb2_grpc as pg

    ch = (grpc.secure_channel(a.target, grpc.ssl_channel_credentials(open(a.tls, "rb").read()))
          if a.tls else grpc.insecure_channel(a.target))
    md = (("authorization", "Bearer " + a.key),) if a.key else None
    st = pg.SpeechStub(ch)
    if a.cmd == "health":
        r = hg.HealthStub(ch).Check(hp.HealthCheckRequest(), timeout=a.timeout)
        print(hp.HealthCheckResponse.ServingStatus.Name(r.status))
        return
    if a.cmd == "voices":
        for v in st.ListVoices(pb.ListVoicesRequest(), timeout=a.timeout, metadata=md).voices:
            print(f"{v.name}\t{v.kind}\t{v.language}\t{v.quality}\t{v.sample_rate}\t{','.join(v.speakers)}")
        return
    cfg = pb.SynthesizeRequest(voice=a.voice, format=pb.AudioFormat.Value(a.format),
                               sample_rate=a.rate)
    if a.cmd == "speak":
        cfg.text = a.text or sys.stdin.read()
        chunks = st.Synthesize(cfg, timeout=a.timeout, metadata=md)
    else:
        def pieces():   # config first, then the text as it comes (here: line by line)
            yield pb.TextChunk(config=cfg)
            for line in sys.stdin:
                yield pb.TextChunk(text=line)
        chunks = st.SynthesizeStream(pieces(), timeout=a.timeout, metadata=md)
    out = sys.stdout.buffer if a.out == "-" else open(a.out, "wb")
    try:
        for c in chunks:
            out.write(c.audio)
            out.flush()
            if c.last:
                print(f"{c.sample_rate} Hz, {c.sentence_index} sentences", file=sys.stderr)
    except grpc.RpcError as e:
        sys.exit(f"{e.code().name}: {e.details()}")


if __name__ == "__main__":
    main()
