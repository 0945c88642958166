#!/usr/bin/env node
// snr.js REF.f32 OUT.f32 -> prints "ref_samples out_samples snr_db"
// SNR with the reference's mean removed: 10*log10(sum((r-mean r)^2) / sum((o-r)^2)),
// computed over the common length (the caller also compares the lengths).
'use strict';
const fs = require('fs');
function load(p) {
  const b = fs.readFileSync(p);
  return new Float32Array(b.buffer, b.byteOffset, Math.floor(b.length / 4));
}
const r = load(process.argv[2]), o = load(process.argv[3]);
const n = Math.min(r.length, o.length);
let mean = 0;
for (let i = 0; i < n; i++) mean += r[i];
mean /= n || 1;
let sig = 0, noise = 0;
for (let i = 0; i < n; i++) { const d = r[i] - mean, e = o[i] - r[i]; sig += d * d; noise += e * e; }
const snr = noise === 0 ? 999 : 10 * Math.log10(sig / noise);
console.log(`${r.length} ${o.length} ${snr.toFixed(2)}`);
