// The official OpenAI SDK, unmodified, pointed at voxd: node openai_client.js PORT KEYED_PORT
// (PORT's server has the Piper test voices: en_US-rand-medium is deterministic, so a plain
// and an SSE response can be compared byte for byte)
'use strict';
const OpenAI = require('openai');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// ffprobe on bytes: {codec, rate, channels, frames} (frames decoded by ffmpeg), or null
function probe(buf, ext) {
  const f = path.join(os.tmpdir(), `vox_sdk_${process.pid}_${Math.random().toString(36).slice(2)}.${ext}`);
  fs.writeFileSync(f, buf);
  try {
    const p = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries',
      'stream=codec_name,sample_rate,channels', '-of', 'default=nw=1', f], { encoding: 'utf8' });
    if (p.status !== 0) return null;
    const kv = Object.fromEntries(p.stdout.trim().split('\n').map((l) => l.split('=')));
    const d = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', f, '-f', 's16le', '-'], { maxBuffer: 1 << 28 });
    return { codec: kv.codec_name, rate: +kv.sample_rate, channels: +kv.channels,
             frames: d.status === 0 ? d.stdout.length / 2 / +kv.channels : -1 };
  } finally { fs.unlinkSync(f); }
}

// server-sent events of a speech response -> [{type, ...}]
function sseEvents(text) {
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)));
}

let pass = 0, fail = 0;
const check = (name, cond, extra) => {
  if (cond) { pass++; console.log(`ok   - ${name}`); }
  else { fail++; console.log(`FAIL - ${name}${extra ? ': ' + extra : ''}`); }
};

async function main() {
  const [port, keyedPort] = process.argv.slice(2);
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });

  // As the SDK's README calls it: no response_format -> mp3 (OpenAI's default)
  const def = await client.audio.speech.create({
    model: 'gpt-4o-mini-tts', voice: 'coral', input: 'Today is a wonderful day to build something people love!',
    instructions: 'Speak in a cheerful and positive tone.',
  });
  const dbuf = Buffer.from(await def.arrayBuffer());
  const dp = probe(dbuf, 'mp3');
  check('default response_format: audio/mpeg', def.headers.get('content-type') === 'audio/mpeg', def.headers.get('content-type'));
  check('default response_format: ffmpeg decodes mp3', dp && dp.codec === 'mp3' && dp.frames > 22050,
        JSON.stringify(dp));
  check('default mp3: 22050 Hz mono', dp && dp.rate === 22050 && dp.channels === 1, JSON.stringify(dp));

  // opus
  const op = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Opus, in Ogg.', response_format: 'opus' });
  const obuf = Buffer.from(await op.arrayBuffer());
  const opp = probe(obuf, 'opus');
  check('opus: Ogg stream', obuf.subarray(0, 4).toString() === 'OggS');
  check('opus: ffmpeg decodes opus at 48 kHz', opp && opp.codec === 'opus' && opp.rate === 48000 && opp.frames > 0,
        JSON.stringify(opp));

  // SSE (pcm, deterministic voice): the deltas' audio is the plain response, byte for byte
  const body = { model: 'tts-1', voice: 'en_US-rand-medium', input: 'One sentence here. And a second one!', response_format: 'pcm' };
  const plain = Buffer.from(await (await client.audio.speech.create(body)).arrayBuffer());
  const sse = await client.audio.speech.create({ ...body, stream_format: 'sse' });
  check('sse: content-type text/event-stream', /^text\/event-stream/.test(sse.headers.get('content-type') || ''),
        sse.headers.get('content-type'));
  const ev = sseEvents(await sse.text());
  const deltas = ev.filter((e) => e.type === 'speech.audio.delta');
  const joined = Buffer.concat(deltas.map((e) => Buffer.from(e.audio, 'base64')));
  check('sse: delta events', deltas.length >= 1, `${deltas.length}`);
  check('sse: base64 deltas == plain pcm bytes', plain.length > 0 && joined.equals(plain),
        `${joined.length} vs ${plain.length} bytes`);
  const done = ev[ev.length - 1];
  check('sse: ends with speech.audio.done + usage', done && done.type === 'speech.audio.done' && done.usage &&
        done.usage.total_tokens === done.usage.input_tokens + done.usage.output_tokens, JSON.stringify(done));
  check('pcm: 24 kHz (bytes/48000 s)', plain.length % 2 === 0 && plain.length > 24000, `${plain.length}`);
  // SSE works for an encoded format too: mp3 deltas decode
  const sm = await client.audio.speech.create({ ...body, response_format: 'mp3', stream_format: 'sse' });
  const mj = Buffer.concat(sseEvents(await sm.text()).filter((e) => e.type === 'speech.audio.delta')
    .map((e) => Buffer.from(e.audio, 'base64')));
  const mp = probe(mj, 'mp3');
  check('sse mp3: deltas decode as mp3', mp && mp.codec === 'mp3' && mp.frames > 0, JSON.stringify(mp));

  const wav = await client.audio.speech.create({
    model: 'tts-1', voice: 'alloy', input: 'Hello from the OpenAI SDK. Two sentences.',
    response_format: 'wav',
  });
  const buf = Buffer.from(await wav.arrayBuffer());
  check('speech.create wav: RIFF', buf.subarray(0, 4).toString() === 'RIFF');
  check('speech.create wav: 22050 Hz', buf.readUInt32LE(24) === 22050);
  check('speech.create wav: audio present', buf.length > 44 + 22050, `${buf.length} bytes`);
  check('speech.create wav: content-type', wav.headers.get('content-type') === 'audio/wav');

  const pcm = await client.audio.speech.create({
    model: 'tts-1-hd', voice: 'nova', input: 'Raw samples please.', response_format: 'pcm', speed: 1.5,
    instructions: 'Speak calmly.',
  });
  const pbuf = Buffer.from(await pcm.arrayBuffer());
  check('speech.create pcm: even, non-empty', pbuf.length > 0 && pbuf.length % 2 === 0, `${pbuf.length}`);

  // Streaming: read the body as it arrives.
  const st = await client.audio.speech.create({
    model: 'espeak:en-us', voice: 'espeak:en-us', input: 'One. Two. Three. Four. Five.', response_format: 'pcm',
  });
  let chunks = 0, bytes = 0;
  for await (const c of st.body) { chunks++; bytes += c.length; }
  check('speech.create streamed body', bytes > 0 && chunks >= 1, `${chunks} chunks, ${bytes} bytes`);

  for (const [name, extra] of [['speed 0.2', { speed: 0.2 }], ['speed 4.5', { speed: 4.5 }],
    ['format vorbis', { response_format: 'vorbis' }], ['stream_format json', { stream_format: 'json' }],
    ['sample_rate 96000', { sample_rate: 96000 }], ['bitrate 1', { bitrate: 1 }]]) {
    try {
      await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', ...extra });
      check(`${name} rejected`, false);
    } catch (e) {
      check(`${name} -> BadRequestError 400 invalid_request_error`, e instanceof OpenAI.BadRequestError &&
            e.status === 400 && e.type === 'invalid_request_error' && typeof e.param === 'string', String(e));
    }
  }
  try {
    await client.audio.speech.create({ model: 'tts-1', voice: 'no-such-voice', input: 'x' });
    check('unknown voice rejected', false);
  } catch (e) {
    check('unknown voice -> NotFoundError 404', e instanceof OpenAI.NotFoundError, String(e));
  }

  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  check('models.list has tts-1 and tts-1-hd', models.includes('tts-1') && models.includes('tts-1-hd'), models.join(','));

  const bad = new OpenAI({ baseURL: `http://127.0.0.1:${keyedPort}/v1`, apiKey: 'wrong', maxRetries: 0 });
  try {
    await bad.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' });
    check('wrong key rejected', false);
  } catch (e) {
    check('wrong key -> AuthenticationError 401', e instanceof OpenAI.AuthenticationError, String(e));
  }
  const good = new OpenAI({ baseURL: `http://127.0.0.1:${keyedPort}/v1`, apiKey: 'k3y', maxRetries: 0 });
  const r = await good.audio.speech.create({ model: 'tts-1', voice: 'echo', input: 'Authorized.', response_format: 'wav' });
  check('right key -> audio', Buffer.from(await r.arrayBuffer()).length > 44);
}

main().catch((e) => { fail++; console.log(`FAIL - unexpected: ${e.stack || e}`); })
  .finally(() => { console.log(`${pass} passed, ${fail} failed`); process.exit(fail ? 1 : 0); });
