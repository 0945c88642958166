#!/usr/bin/env node
// oracle_align.js VOX.f32 ORACLE.f32 N1,N2,...  — vox's audio is its sentences (sample
// counts N1..Nk) back to back; the oracle's is the same sentences plus, where Piper's
// front end yields an empty sentence, a short extra utterance (BOS/PAD/EOS only) that
// vox skips. Walk both: each vox sentence must match the oracle at the current offset,
// or after skipping one such extra piece (a whole number of 256-sample frames, < 64
// frames). Prints one line per sentence; exits 1 on any mismatch (SNR < 60 dB).
'use strict';
const fs = require('fs');
const load = (p) => { const b = fs.readFileSync(p); return new Float32Array(b.buffer, b.byteOffset, b.length >> 2); };
const vox = load(process.argv[2]), ora = load(process.argv[3]);
const lens = process.argv[4].split(',').map(Number);
function snr(a, ao, b, bo, n) {
  if (bo + n > b.length) return -Infinity;
  let m = 0; for (let i = 0; i < n; i++) m += b[bo + i]; m /= n;
  let s = 0, e = 0;
  for (let i = 0; i < n; i++) { const r = b[bo + i]; s += (r - m) ** 2; e += (a[ao + i] - r) ** 2; }
  return e === 0 ? 999 : 10 * Math.log10(s / e);
}
let vo = 0, oo = 0, bad = 0, skipped = 0;
for (let k = 0; k < lens.length; k++) {
  const n = lens[k];
  let best = snr(vox, vo, ora, oo, n), skip = 0;
  for (let f = 1; best < 60 && f < 64; f++) {
    const s = snr(vox, vo, ora, oo + f * 256, n);
    if (s >= 60) { best = s; skip = f * 256; }
  }
  if (skip) skipped++;
  console.log(`sentence ${k}: ${n} samples, skipped ${skip} oracle samples, SNR ${best.toFixed(1)} dB`);
  if (!(best >= 60)) bad++;
  vo += n; oo += skip + n;
}
const tail = ora.length - oo;
console.log(`vox ${vox.length} samples, oracle ${ora.length}; ${skipped} empty sentence(s) skipped; oracle tail ${tail}`);
if (vo !== vox.length) { console.log('vox length does not add up'); bad++; }
if (tail < 0 || tail >= 64 * 256) { console.log('oracle has unexplained audio at the end'); bad++; }
process.exit(bad ? 1 : 0);
