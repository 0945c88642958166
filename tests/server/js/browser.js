// voxd's page in Debian's Chromium, driven by playwright-core: node browser.js URL
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

let pass = 0, fail = 0;
const check = (name, cond, extra) => {
  if (cond) { pass++; console.log(`ok   - ${name}`); }
  else { fail++; console.log(`FAIL - ${name}${extra ? ': ' + extra : ''}`); }
};

async function main() {
  const url = process.argv[2];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vox-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.VOX_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url, { timeout: 20000 });
    check('page title', (await page.title()).startsWith('vox'));
    await page.waitForSelector('#voice option', { state: 'attached', timeout: 20000 });
    const voices = await page.$$eval('#voice option', (o) => o.map((x) => x.value));
    check('voice list loaded from /v1/voices', voices.includes('espeak:en-us'), voices.join(','));
    await page.selectOption('#voice', 'espeak:en-us');
    await page.fill('#text', 'The browser test types this. Then it clicks speak, and the audio streams in.');
    await page.click('#play');
    await page.waitForFunction(() => /^(done|error)/.test(document.getElementById('status').textContent),
                               null, { timeout: 30000 });
    const statusText = await page.textContent('#status');
    check('playback finished without error', statusText.startsWith('done'), statusText);
    const bytes = parseInt(await page.getAttribute('#status', 'data-bytes'), 10);
    check('audio bytes arrived in the page', bytes > 22050, `${bytes}`);
    check('download link offered', await page.isVisible('#download'));
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#download')]);
    const file = await dl.path();
    const wav = fs.readFileSync(file);
    check('downloaded WAV is valid', wav.subarray(0, 4).toString() === 'RIFF' && wav.readUInt32LE(40) === bytes,
          `${wav.length} bytes`);
    // mp3: streamed into the <audio> element (Media Source), and playing before the end
    await page.selectOption('#format', 'mp3');
    await page.fill('#text', 'Now in mp3. The first sentence plays while the second arrives. A third one, too.');
    await page.click('#play');
    // The status still reads the WAV run's "done: ..." until this request answers: wait for
    // the mp3 run's own words, not for any "done".
    await page.waitForFunction(() => /^(playing mp3|done: .* of mp3|error)/.test(document.getElementById('status').textContent),
                               null, { timeout: 30000 });
    const early = await page.textContent('#status');
    check('mp3 plays as it streams (Media Source)', early.startsWith('playing mp3') || early.startsWith('done'), early);
    await page.waitForFunction(() => /^(done: .* of mp3|error)/.test(document.getElementById('status').textContent),
                               null, { timeout: 30000 });
    const mst = await page.textContent('#status');
    check('mp3 finished without error', mst.startsWith('done'), mst);
    await page.waitForFunction(() => document.getElementById('player').currentTime > 0.2, null, { timeout: 15000 })
      .then(() => check('mp3 audio element advances', true), (e) => check('mp3 audio element advances', false, String(e)));
    const [dl2] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#download')]);
    const mp3 = fs.readFileSync(await dl2.path());
    check('downloaded mp3 starts with an MPEG frame', mp3.length > 1000 && mp3[0] === 0xff && (mp3[1] & 0xe0) === 0xe0,
          `${mp3.length} bytes`);
    check('no page errors', errors.length === 0, errors.join('; '));
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { fail++; console.log(`FAIL - unexpected: ${e.stack || e}`); })
  .finally(() => { console.log(`${pass} passed, ${fail} failed`); process.exit(fail ? 1 : 0); });
