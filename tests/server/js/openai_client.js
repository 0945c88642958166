// The official OpenAI SDK, unmodified, pointed at voxd: node openai_client.js PORT KEYED_PORT
'use strict';
const OpenAI = require('openai');

let pass = 0, fail = 0;
const check = (name, cond, extra) => {
  if (cond) { pass++; console.log(`ok   - ${name}`); }
  else { fail++; console.log(`FAIL - ${name}${extra ? ': ' + extra : ''}`); }
};

async function main() {
  const [port, keyedPort] = process.argv.slice(2);
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });

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

  try {
    await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'mp3' });
    check('mp3 rejected', false);
  } catch (e) {
    check('mp3 -> BadRequestError 400', e instanceof OpenAI.BadRequestError && e.status === 400, String(e));
    check('mp3 -> message says not supported', /not supported/.test(e.message), e.message);
    check('mp3 -> code unsupported_format', e.code === 'unsupported_format', e.code);
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
